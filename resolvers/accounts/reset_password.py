from typing import Annotated

import strawberry

from db.enums import AuditOutcome
from domain.audit import AuditEvent
from domain.auth.password_reset import reset_password
from resolvers.auth.payload import auth_payload
from schema.context import Context
from schema.input_limits import NEW_PASSWORD, TOKEN, limited
from schema.types.user import AuthPayload
from services.errors import BadUserInput


async def resolve_reset_password(
    info: strawberry.Info[Context],
    token: Annotated[str, strawberry.argument(metadata=limited(TOKEN))],
    new_password: Annotated[str, strawberry.argument(metadata=limited(NEW_PASSWORD))],
) -> AuthPayload:
    """Sets the password the e-mailed link allows, ends every session of the user and
    signs them in anew."""
    context = info.context
    try:
        async with context.sessions.begin() as session:
            signed_in = await reset_password(
                session, context.redis, context.services.tokens, token, new_password
            )
    except BadUserInput:
        context.audit.record(AuditEvent(action="password.reset", outcome=AuditOutcome.FAILED))
        raise
    context.audit.record(
        AuditEvent(
            action="password.reset",
            outcome=AuditOutcome.ALLOWED,
            actor_user_id=signed_in.user.id,
            actor_role=signed_in.user.role,
            resource_type="User",
            resource_id=str(signed_in.user.id),
        )
    )
    return auth_payload(signed_in)
