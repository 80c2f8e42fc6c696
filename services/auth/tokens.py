"""Access and refresh tokens: JWTs signed with Ed25519, verified without a database.

An access token lives 15 minutes and carries everything a request needs to know who
the caller is: user, role, and the patient or doctor they are. A refresh token lives
7 days; its ``jti`` is the id of its row, which the caller stores and rotates.

Verification pins the algorithm to ``Ed25519``, requires a ``kid`` naming an accepted
key, and checks every claim. Any failure is one :class:`Unauthenticated` with a fixed
message, so a caller learns nothing about why a token was refused.
"""

import functools
import re
import time
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Any, Final, Literal
from uuid import UUID

from joserfc import jwt
from joserfc.errors import JoseError
from joserfc.jwk import GuestProtocol, Key, OKPKey
from joserfc.jws import JWSRegistry

from db.enums import Role
from services.auth.keys import ALGORITHM, TokenKeys, load_token_keys
from services.errors import Unauthenticated
from services.settings import Settings

ACCESS_TOKEN_LIFETIME: Final = timedelta(minutes=15)
REFRESH_TOKEN_LIFETIME: Final = timedelta(days=7)

INVALID_ACCESS_TOKEN: Final = "Invalid or expired access token."
INVALID_REFRESH_TOKEN: Final = "Invalid or expired refresh token."

# Access tokens remembered as verified, per process: about 1 KB each.
VERIFIED_ACCESS_TOKENS: Final = 4096

# Ours are about 500 characters; anything far longer is not worth parsing.
MAX_TOKEN_LENGTH: Final = 4096

_TokenType = Literal["access", "refresh"]
_ACCESS_JTI = re.compile(r"[0-9a-f]{32}")
_ROLES: Final = frozenset(role.value for role in Role)


@dataclass(frozen=True, slots=True)
class AccessClaims:
    """Who sent a request, as an access token vouches."""

    user_id: UUID
    role: Role
    jti: str
    family_id: UUID
    patient_id: UUID | None
    doctor_id: UUID | None
    issued_at: datetime
    expires_at: datetime


@dataclass(frozen=True, slots=True)
class RefreshClaims:
    user_id: UUID
    token_id: UUID
    family_id: UUID
    issued_at: datetime
    expires_at: datetime


class _Rejected(Exception):
    """A token is not acceptable; never shown, always turned into Unauthenticated."""


class TokenService:
    """Issues and verifies tokens with one set of keys, for one issuer and audience."""

    def __init__(self, keys: TokenKeys, issuer: str, audience: str) -> None:
        kid = keys.signing.kid
        if not kid or not keys.signing.is_private:
            raise ValueError("the signing key must be a private key with a kid")
        if not issuer or not audience:
            raise ValueError("issuer and audience must not be empty")
        self._signing_key = keys.signing
        self._header: Final = {"alg": ALGORITHM, "kid": kid}
        self._verification_keys: Final[dict[str, OKPKey]] = {
            key.kid: key
            for key in keys.verification
            if isinstance(key, OKPKey) and key.kid and key.curve_name == "Ed25519"
        }
        # Only Ed25519: never "none", never HMAC with a public key as the secret.
        self._registry: Final = JWSRegistry(algorithms=[ALGORITHM])
        self._issuer: Final = issuer
        self._audience: Final = audience
        self._access_claims = functools.lru_cache(maxsize=VERIFIED_ACCESS_TOKENS)(self._read_access)

    @classmethod
    def from_settings(cls, settings: Settings) -> "TokenService":
        """:raise ConfigError: the keys are missing or unusable."""
        return cls(load_token_keys(settings), settings.jwt_issuer, settings.jwt_audience)

    # --- issuing -------------------------------------------------------------------------------

    def issue_access(
        self,
        *,
        user_id: UUID,
        role: Role,
        family_id: UUID,
        patient_id: UUID | None = None,
        doctor_id: UUID | None = None,
        now: datetime | None = None,
    ) -> tuple[str, AccessClaims]:
        """A signed access token and the claims it carries (times in whole seconds, UTC)."""
        issued_at = _whole_seconds(now)
        claims = AccessClaims(
            user_id=user_id,
            role=Role(role),
            jti=uuid.uuid4().hex,
            family_id=family_id,
            patient_id=patient_id,
            doctor_id=doctor_id,
            issued_at=issued_at,
            expires_at=issued_at + ACCESS_TOKEN_LIFETIME,
        )
        payload = self._registered_claims("access", user_id, issued_at, claims.expires_at)
        payload.update(jti=claims.jti, role=claims.role.value, sid=str(family_id))
        if patient_id is not None:
            payload["pid"] = str(patient_id)
        if doctor_id is not None:
            payload["did"] = str(doctor_id)
        return self._sign(payload), claims

    def issue_refresh(
        self,
        *,
        user_id: UUID,
        token_id: UUID,
        family_id: UUID,
        now: datetime | None = None,
    ) -> tuple[str, RefreshClaims]:
        """A signed refresh token whose ``jti`` is ``token_id``, and the claims it carries."""
        issued_at = _whole_seconds(now)
        claims = RefreshClaims(
            user_id=user_id,
            token_id=token_id,
            family_id=family_id,
            issued_at=issued_at,
            expires_at=issued_at + REFRESH_TOKEN_LIFETIME,
        )
        payload = self._registered_claims("refresh", user_id, issued_at, claims.expires_at)
        payload.update(jti=str(token_id), sid=str(family_id))
        return self._sign(payload), claims

    def _registered_claims(
        self, token_type: _TokenType, user_id: UUID, issued_at: datetime, expires_at: datetime
    ) -> dict[str, Any]:
        return {
            "iss": self._issuer,
            "aud": self._audience,
            "sub": str(user_id),
            "iat": int(issued_at.timestamp()),
            "exp": int(expires_at.timestamp()),
            "typ": token_type,
        }

    def _sign(self, payload: dict[str, Any]) -> str:
        return jwt.encode(self._header, payload, self._signing_key, registry=self._registry)

    # --- verifying -----------------------------------------------------------------------------

    def verify_access(self, token: str, *, now: datetime | None = None) -> AccessClaims:
        """The claims of a valid, unexpired access token.

        :raise Unauthenticated: with ``INVALID_ACCESS_TOKEN``, whatever is wrong.
        """
        at = _timestamp(now)
        if at is None:
            at = int(time.time())
        try:
            claims = self._access_claims(token)
        except (_Rejected, JoseError, ValueError, TypeError, KeyError, OverflowError, OSError):
            raise Unauthenticated(INVALID_ACCESS_TOKEN) from None
        # As joserfc checks them with no leeway: issued by now, and not yet expired.
        if not claims.issued_at.timestamp() <= at < claims.expires_at.timestamp():
            raise Unauthenticated(INVALID_ACCESS_TOKEN) from None
        return claims

    def _read_access(self, token: str) -> AccessClaims:
        """Everything about an access token but the time; memoized per token (the
        signature check is a third of a cache hit's CPU, and a client sends one token
        for 15 minutes). Only tokens that pass are remembered."""
        claims, issued_at, expires_at = self._verify(token, "access", None)
        jti = claims.get("jti")
        role = claims.get("role")
        if not isinstance(jti, str) or not _ACCESS_JTI.fullmatch(jti):
            raise _Rejected
        if not isinstance(role, str) or role not in _ROLES:
            raise _Rejected
        return AccessClaims(
            user_id=_uuid(claims.get("sub")),
            role=Role(role),
            jti=jti,
            family_id=_uuid(claims.get("sid")),
            patient_id=_optional_uuid(claims, "pid"),
            doctor_id=_optional_uuid(claims, "did"),
            issued_at=issued_at,
            expires_at=expires_at,
        )

    def verify_refresh(self, token: str, *, now: datetime | None = None) -> RefreshClaims:
        """The claims of a valid, unexpired refresh token (revocation is the caller's to check).

        :raise Unauthenticated: with ``INVALID_REFRESH_TOKEN``, whatever is wrong.
        """
        at = _timestamp(now)
        try:
            claims, issued_at, expires_at = self._verify(
                token, "refresh", int(time.time()) if at is None else at
            )
            return RefreshClaims(
                user_id=_uuid(claims.get("sub")),
                token_id=_uuid(claims.get("jti")),
                family_id=_uuid(claims.get("sid")),
                issued_at=issued_at,
                expires_at=expires_at,
            )
        except (_Rejected, JoseError, ValueError, TypeError, KeyError, OverflowError, OSError):
            raise Unauthenticated(INVALID_REFRESH_TOKEN) from None

    def _verify(
        self, token: str, token_type: _TokenType, now: int | None
    ) -> tuple[dict[str, Any], datetime, datetime]:
        """The claims of a token whose signature, type, issuer, audience and times are right;
        with ``now`` None, times are checked only against each other (the caller checks
        them against the clock)."""
        if not isinstance(token, str) or not token or len(token) > MAX_TOKEN_LENGTH:
            raise _Rejected
        decoded = jwt.decode(token, self._key_for, registry=self._registry)
        if decoded.header.get("alg") != ALGORITHM:
            raise _Rejected
        claims = decoded.claims
        issued = claims.get("iat")
        if type(issued) is not int:  # we issue whole seconds
            raise _Rejected
        jwt.JWTClaimsRegistry(
            now=issued if now is None else now,
            leeway=0,
            iss={"essential": True, "value": self._issuer},
            aud={"essential": True, "value": self._audience},
            sub={"essential": True},
            exp={"essential": True},
            iat={"essential": True},
            jti={"essential": True},
            typ={"essential": True, "value": token_type},
            sid={"essential": True},
        ).validate(claims)
        # The registry also accepts lists that contain the value; ours are plain strings.
        if (
            claims["iss"] != self._issuer
            or claims["aud"] != self._audience
            or claims["typ"] != token_type
        ):
            raise _Rejected
        issued_at = _datetime(claims["iat"])
        expires_at = _datetime(claims["exp"])
        lifetime = ACCESS_TOKEN_LIFETIME if token_type == "access" else REFRESH_TOKEN_LIFETIME
        if not issued_at < expires_at <= issued_at + lifetime:
            raise _Rejected
        return claims, issued_at, expires_at

    def _key_for(self, token: GuestProtocol) -> Key:
        """The accepted key the token's ``kid`` names; no kid, no key."""
        kid = token.headers().get("kid")
        if not isinstance(kid, str):
            raise _Rejected
        key = self._verification_keys.get(kid)
        if key is None:
            raise _Rejected
        return key


def _whole_seconds(now: datetime | None) -> datetime:
    """``now`` (or the current time) in UTC, truncated to the second as JWT times are."""
    seconds = _timestamp(now if now is not None else datetime.now(UTC))
    assert seconds is not None
    return datetime.fromtimestamp(seconds, UTC)


def _timestamp(now: datetime | None) -> int | None:
    if now is None:
        return None
    if now.tzinfo is None or now.utcoffset() is None:
        raise ValueError("now must be a timezone-aware datetime")
    return int(now.timestamp() // 1)


def _datetime(value: object) -> datetime:
    # We issue whole seconds; a float, a bool or a string is not ours.
    if type(value) is not int:
        raise _Rejected
    return datetime.fromtimestamp(value, UTC)


def _uuid(value: object) -> UUID:
    """A UUID in its canonical form (UUID() also reads braces, URNs and bare hex)."""
    if not isinstance(value, str) or len(value) != 36:
        raise _Rejected
    parsed = UUID(value)
    if str(parsed) != value:
        raise _Rejected
    return parsed


def _optional_uuid(claims: dict[str, Any], name: str) -> UUID | None:
    return _uuid(claims[name]) if name in claims else None
