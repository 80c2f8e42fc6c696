from typing import Annotated

import strawberry

from db.enums import AuditOutcome
from domain.audit import AuditEvent
from domain.auth.verification import verify_email
from schema.context import Context
from schema.input_limits import TOKEN, limited
from schema.types.user import User
from services.errors import BadUserInput


async def resolve_verify_email(
    info: strawberry.Info[Context],
    token: Annotated[str, strawberry.argument(metadata=limited(TOKEN))],
) -> User:
    """Anyone holding the link may use it; the profile is shown only to its owner."""
    context = info.context
    try:
        async with context.sessions.begin() as session:
            user = await verify_email(session, token)
    except BadUserInput:
        context.audit.record(AuditEvent(action="email.verify", outcome=AuditOutcome.FAILED))
        raise
    context.audit.record(
        AuditEvent(
            action="email.verify",
            outcome=AuditOutcome.ALLOWED,
            resource_type="User",
            resource_id=str(user.id),
        )
    )
    caller = context.caller
    if caller is not None and caller.user_id == user.id:
        return User.of(user, caller)
    return User.seen_by(user, None, None, None)
