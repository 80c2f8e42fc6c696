from typing import Annotated

import strawberry

from db.enums import AuditOutcome
from domain.audit import AuditEvent
from domain.auth.password_reset import ask_for_password_reset
from schema.context import Context
from schema.input_limits import LOGIN_EMAIL, limited
from services.rate_limits.message_budgets import require_account_message_budget


async def resolve_request_password_reset(
    info: strawberry.Info[Context],
    email: Annotated[str, strawberry.argument(metadata=limited(LOGIN_EMAIL))],
) -> bool:
    """Always true, in the same time, whether or not an account has ``email``: the same
    budgets, the same statements and the same audit row either way."""
    context = info.context
    await require_account_message_budget(
        context.redis, context.services.settings.rate_limits, "reset", email, context.ip
    )
    async with context.sessions.begin() as session:
        await ask_for_password_reset(session, email)
    context.audit.record(
        AuditEvent(action="password.reset_requested", outcome=AuditOutcome.ALLOWED)
    )
    return True
