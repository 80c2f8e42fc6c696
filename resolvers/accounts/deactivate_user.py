import strawberry
from sqlalchemy import select

from db.enums import AuditOutcome
from db.models import Doctor, Patient
from domain.audit import AuditEvent
from domain.auth.deactivation import deactivate_user
from domain.caller import require_admin
from schema.context import Context
from schema.ids import parse_id
from schema.types.user import User


async def resolve_deactivate_user(info: strawberry.Info[Context], user_id: strawberry.ID) -> User:
    """Admin: the user can no longer sign in, and every token of theirs stops at once."""
    context = info.context
    admin = require_admin(context.caller)
    async with context.sessions.begin() as session:
        user = await deactivate_user(session, context.redis, admin, parse_id(user_id, "userId"))
        patient_id = await session.scalar(select(Patient.id).where(Patient.user_id == user.id))
        doctor_id = await session.scalar(select(Doctor.id).where(Doctor.user_id == user.id))
    context.audit.record(
        AuditEvent(
            action="user.deactivate",
            outcome=AuditOutcome.ALLOWED,
            patient_id=patient_id,
            resource_type="User",
            resource_id=str(user.id),
        )
    )
    return User.seen_by(user, patient_id, doctor_id, admin)
