"""The per-request GraphQL context: who asks, and what they may use to answer."""

from dataclasses import dataclass, field

from redis.asyncio import Redis
from redis.exceptions import RedisError
from starlette.requests import HTTPConnection

from db.request_sessions import RequestSessions
from domain.audit import AuditTrail
from domain.caller import Caller, require_signed_in
from loaders import Loaders
from services.auth.revoked_tokens import is_revoked, revocation_keys
from services.auth.tokens import INVALID_ACCESS_TOKEN
from services.container import Services
from services.errors import DomainError, ServiceUnavailable, Unauthenticated
from services.outages import UNAVAILABLE_MESSAGE
from services.slot_cache import SlotCache


@dataclass(frozen=True, slots=True)
class Context:
    # A request, or the WebSocket a subscription came over.
    request: HTTPConnection
    request_id: str
    ip: str | None
    services: Services
    caller: Caller | None
    # A presented but unusable token, or one that could not be checked (Redis down):
    # the whole request is refused with it.
    credentials_error: DomainError | None
    audit: AuditTrail
    # Every session of the request on one connection (db/request_sessions.py).
    sessions: RequestSessions
    loaders: Loaders
    # The revocation entries of the caller's token, yet to be looked up: the door does
    # it in its round trip to Redis, before anything runs (schema/limits/door.py).
    unchecked_revocations: tuple[str, ...] = ()
    _loaders_of_others: dict[Caller, Loaders] = field(default_factory=dict)

    @property
    def redis(self) -> Redis:
        return self.services.redis

    @property
    def slot_cache(self) -> SlotCache:
        return self.services.slot_cache

    def loaders_for(self, viewer: Caller) -> Loaders:
        """Loaders that check access as ``viewer``: a sign-in mutation answers as the
        user who just signed in, not as the anonymous caller who asked."""
        if viewer == self.caller:
            return self.loaders
        if viewer not in self._loaders_of_others:
            self._loaders_of_others[viewer] = Loaders(
                self.sessions,
                self.slot_cache,
                viewer,
                self.audit.acting_as(viewer),
            )
        return self._loaders_of_others[viewer]

    def require_caller(self) -> Caller:
        return require_signed_in(self.caller)


async def authenticate(
    services: Services, authorization: str | None, *, revocations: bool = True
) -> Caller | None:
    """The caller named by a Bearer access token; None without one. Without
    ``revocations``, whether the token was revoked is left to the caller to ask."""
    if authorization is None:
        return None
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated(INVALID_ACCESS_TOKEN)
    claims = services.tokens.verify_access(token.strip())
    if revocations and await is_revoked(services.redis, claims.jti, claims.family_id):
        raise Unauthenticated(INVALID_ACCESS_TOKEN)
    return Caller(
        user_id=claims.user_id,
        role=claims.role,
        patient_id=claims.patient_id,
        doctor_id=claims.doctor_id,
        token_id=claims.jti,
        token_expires_at=claims.expires_at,
        family_id=claims.family_id,
    )


async def build_context(
    request: HTTPConnection,
    services: Services,
    request_id: str,
    authorization: str | None,
    *,
    revocations_at_door: bool = False,
) -> Context:
    """``authorization``: the Authorization header, or over a WebSocket the one that
    ``connection_init`` carried. With ``revocations_at_door`` (an operation over HTTP,
    which the door sees before anything runs), the door asks whether the token was
    revoked, in the round trip it makes anyway."""
    try:
        caller = await authenticate(services, authorization, revocations=not revocations_at_door)
        credentials_error: DomainError | None = None
    except Unauthenticated as error:
        caller, credentials_error = None, error
    except RedisError:
        # Revocations live in Redis: without it a revoked token would pass (fail closed).
        caller, credentials_error = None, ServiceUnavailable(UNAVAILABLE_MESSAGE)
    ip = request.client.host if request.client else None
    audit = AuditTrail(caller=caller, ip=ip, request_id=request_id)
    # Traced statements go through sessions, where the tracer's engine events see them.
    sessions = RequestSessions(services.engine, direct=services.tracer is None)
    return Context(
        request=request,
        request_id=request_id,
        ip=ip,
        services=services,
        caller=caller,
        credentials_error=credentials_error,
        audit=audit,
        sessions=sessions,
        loaders=Loaders(sessions, services.slot_cache, caller, audit),
        unchecked_revocations=(
            revocation_keys(caller.token_id, caller.family_id)
            if revocations_at_door and caller is not None
            else ()
        ),
    )
