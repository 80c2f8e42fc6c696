import strawberry
from sqlalchemy import select

from db.enums import AuditOutcome
from db.models import Patient
from domain.audit import AuditEvent
from domain.auth.verification import ask_to_verify_phone
from schema.context import Context
from services.errors import BadUserInput, Forbidden
from services.rate_limits.message_budgets import require_account_message_budget


async def resolve_request_phone_verification(info: strawberry.Info[Context]) -> bool:
    """Texts a fresh 6-digit code to the patient's phone, unless it is verified already."""
    context = info.context
    caller = context.require_caller()
    if caller.patient_id is None:
        raise Forbidden("Only patients have a phone to verify.")
    async with context.sessions.begin() as session:
        patient = await session.scalar(select(Patient).where(Patient.id == caller.patient_id))
        if patient is None or patient.phone is None:
            raise BadUserInput("There is no phone number to verify; add one with updateMyProfile.")
        if patient.phone_verified_at is not None:
            return True
        await require_account_message_budget(
            context.redis,
            context.services.settings.rate_limits,
            "verify",
            patient.phone,
            context.ip,
        )
        ask_to_verify_phone(session, caller.user_id)
    context.audit.record(
        AuditEvent(
            action="phone.verification_requested",
            outcome=AuditOutcome.ALLOWED,
            patient_id=caller.patient_id,
            resource_type="Patient",
            resource_id=str(caller.patient_id),
        )
    )
    return True
