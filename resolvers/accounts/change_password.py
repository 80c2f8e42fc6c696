from typing import Annotated

import strawberry
from sqlalchemy import select

from db.enums import AuditOutcome
from db.models import User
from domain.audit import AuditEvent
from domain.auth.password_change import change_password, password_attempt
from resolvers.auth.payload import auth_payload
from schema.context import Context
from schema.input_limits import NEW_PASSWORD, PASSWORD, limited
from schema.types.user import AuthPayload
from services.errors import Unauthenticated


async def resolve_change_password(
    info: strawberry.Info[Context],
    current_password: Annotated[str, strawberry.argument(metadata=limited(PASSWORD))],
    new_password: Annotated[str, strawberry.argument(metadata=limited(NEW_PASSWORD))],
) -> AuthPayload:
    """Ends every session of the user, this one too, and returns a new one."""
    context = info.context
    caller = context.require_caller()
    async with context.sessions() as session:
        email = await session.scalar(select(User.email).where(User.id == caller.user_id))
    if email is None:
        raise Unauthenticated("Sign in first.")
    # A wrong current password is a failed sign-in: a stolen token must not guess freely.
    async with (
        password_attempt(context.redis, email, context.ip),
        context.sessions.begin() as session,
    ):
        signed_in = await change_password(
            session,
            context.redis,
            context.services.tokens,
            caller.user_id,
            current_password=current_password,
            new_password=new_password,
        )
    context.audit.record(
        AuditEvent(
            action="password.change",
            outcome=AuditOutcome.ALLOWED,
            resource_type="User",
            resource_id=str(caller.user_id),
        )
    )
    return auth_payload(signed_in)
