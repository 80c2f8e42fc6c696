from typing import Annotated

import strawberry

from db.enums import AuditOutcome
from domain.audit import AuditEvent
from domain.auth.credentials import check_credentials
from domain.auth.sessions import sign_in
from resolvers.auth.payload import auth_payload
from schema.context import Context
from schema.input_limits import LOGIN_EMAIL, PASSWORD, limited
from schema.types.user import AuthPayload
from services.auth.login_limits import LoginLimiter
from services.errors import RateLimited, Unauthenticated

# The same words whether the e-mail is unknown or the password wrong.
INVALID_CREDENTIALS = "Invalid e-mail or password."


async def resolve_login(
    info: strawberry.Info[Context],
    email: Annotated[str, strawberry.argument(metadata=limited(LOGIN_EMAIL))],
    password: Annotated[str, strawberry.argument(metadata=limited(PASSWORD))],
) -> AuthPayload:
    context = info.context
    limiter = LoginLimiter(context.redis)
    try:
        await limiter.reserve(email, context.ip)
    except RateLimited:
        context.audit.record(AuditEvent(action="login", outcome=AuditOutcome.DENIED))
        raise
    async with context.sessions.begin() as session:
        check = await check_credentials(session, email, password)
        signed_in = (
            await sign_in(session, context.services.tokens, check.user)
            if check.valid and check.user is not None
            else None
        )
    if signed_in is None:
        context.audit.record(
            AuditEvent(
                action="login",
                outcome=AuditOutcome.FAILED,
                resource_type="User",
                resource_id=str(check.user.id) if check.user else None,
            )
        )
        raise Unauthenticated(INVALID_CREDENTIALS)
    await limiter.release(email, context.ip)
    context.audit.record(
        AuditEvent(
            action="login",
            outcome=AuditOutcome.ALLOWED,
            actor_user_id=signed_in.user.id,
            actor_role=signed_in.user.role,
            resource_type="User",
            resource_id=str(signed_in.user.id),
        )
    )
    return auth_payload(signed_in)
