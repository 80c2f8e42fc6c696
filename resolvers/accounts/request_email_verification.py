import strawberry
from sqlalchemy import select

from db.enums import AuditOutcome
from db.models import User
from domain.audit import AuditEvent
from domain.auth.verification import ask_to_verify_email
from schema.context import Context
from services.rate_limits.message_budgets import require_account_message_budget


async def resolve_request_email_verification(info: strawberry.Info[Context]) -> bool:
    """E-mails a fresh link to the caller's address, unless it is verified already."""
    context = info.context
    caller = context.require_caller()
    async with context.sessions.begin() as session:
        user = await session.scalar(select(User).where(User.id == caller.user_id))
        if user is None or user.email_verified_at is not None:
            return True
        await require_account_message_budget(
            context.redis, context.services.settings.rate_limits, "verify", user.email, context.ip
        )
        ask_to_verify_email(session, user.id)
    context.audit.record(
        AuditEvent(
            action="email.verification_requested",
            outcome=AuditOutcome.ALLOWED,
            resource_type="User",
            resource_id=str(caller.user_id),
        )
    )
    return True
