from typing import Annotated

import strawberry

from db.enums import AuditOutcome
from domain.audit import AuditEvent
from domain.auth.sessions import RefreshTokenReused, rotate
from resolvers.auth.payload import auth_payload
from schema.context import Context
from schema.input_limits import TOKEN, limited
from schema.types.user import AuthPayload
from services.errors import Unauthenticated


async def resolve_refresh_token(
    info: strawberry.Info[Context],
    refresh_token: Annotated[str, strawberry.argument(metadata=limited(TOKEN))],
) -> AuthPayload:
    context = info.context
    try:
        signed_in = await rotate(
            context.sessions, context.redis, context.services.tokens, refresh_token
        )
    except RefreshTokenReused as reuse:
        context.audit.record(
            AuditEvent(
                action="token.reuse_revoked_family",
                outcome=AuditOutcome.DENIED,
                resource_type="RefreshTokenFamily",
                resource_id=str(reuse.family_id),
                actor_user_id=reuse.user_id,
            )
        )
        raise
    except Unauthenticated:
        context.audit.record(AuditEvent(action="token.refresh", outcome=AuditOutcome.FAILED))
        raise
    context.audit.record(
        AuditEvent(
            action="token.refresh",
            outcome=AuditOutcome.ALLOWED,
            actor_user_id=signed_in.user.id,
            actor_role=signed_in.user.role,
            resource_type="RefreshTokenFamily",
            resource_id=str(signed_in.caller.family_id),
        )
    )
    return auth_payload(signed_in)
