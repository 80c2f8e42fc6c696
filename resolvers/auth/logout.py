from typing import Annotated

import strawberry

from db.enums import AuditOutcome
from domain.audit import AuditEvent
from domain.auth.sessions import end_session
from schema.context import Context
from schema.input_limits import TOKEN, limited
from services.auth.revoked_tokens import revoke
from services.errors import Forbidden, Unauthenticated


async def resolve_logout(
    info: strawberry.Info[Context],
    refresh_token: Annotated[str | None, strawberry.argument(metadata=limited(TOKEN))] = None,
) -> bool:
    """Ends the sign-in session (its refresh-token family, and with it every access token
    it issued) and the access token used."""
    context = info.context
    caller = context.caller
    if refresh_token is not None:
        claims = context.services.tokens.verify_refresh(refresh_token)
        if caller is not None and caller.user_id != claims.user_id:
            raise Forbidden("This refresh token belongs to someone else.")
        family_id, user_id = claims.family_id, claims.user_id
    elif caller is not None:
        family_id, user_id = caller.family_id, caller.user_id
    else:
        raise Unauthenticated("Sign in first, or pass the refresh token to revoke.")
    async with context.sessions.begin() as session:
        await end_session(session, context.redis, family_id, reason="signed out", user_id=user_id)
    if caller is not None:
        await revoke(context.redis, caller.token_id, caller.token_expires_at)
    context.audit.record(
        AuditEvent(
            action="logout",
            outcome=AuditOutcome.ALLOWED,
            actor_user_id=user_id,
            resource_type="RefreshTokenFamily",
            resource_id=str(family_id),
        )
    )
    return True
