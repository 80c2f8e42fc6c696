from datetime import date

import strawberry

from db.enums import AuditOutcome, Role
from domain.audit import AuditEvent
from domain.auth.sessions import sign_in
from domain.auth.verification import ask_to_verify_email
from domain.users import create_user
from resolvers.auth.payload import auth_payload
from schema.context import Context
from schema.input_limits import NEW_EMAIL, NEW_PASSWORD, PERSON_NAME, PHONE, limited
from schema.types.user import AuthPayload
from services.errors import RateLimited
from services.rate_limits.message_budgets import require_account_message_budget


@strawberry.input
class RegisterPatientInput:
    email: str = strawberry.field(metadata=limited(NEW_EMAIL))
    password: str = strawberry.field(metadata=limited(NEW_PASSWORD))
    name: str = strawberry.field(metadata=limited(PERSON_NAME))
    date_of_birth: date | None = None
    phone: str | None = strawberry.field(
        default=None, description="E.164, e.g. +14155550123.", metadata=limited(PHONE)
    )
    sms_opt_in: bool = True
    email_opt_in: bool = True


async def resolve_register_patient(
    info: strawberry.Info[Context], input: RegisterPatientInput
) -> AuthPayload:
    context = info.context
    async with context.sessions.begin() as session:
        new = await create_user(
            session,
            email=input.email,
            password=input.password,
            role=Role.PATIENT,
            name=input.name,
            date_of_birth=input.date_of_birth,
            phone=input.phone,
            sms_opt_in=input.sms_opt_in,
            email_opt_in=input.email_opt_in,
        )
        signed_in = await sign_in(session, context.services.tokens, new.user)
        if await _may_email(context, new.user.email):
            ask_to_verify_email(session, new.user.id)
    assert new.patient is not None
    context.audit.record(
        AuditEvent(
            action="patient.register",
            outcome=AuditOutcome.ALLOWED,
            patient_id=new.patient.id,
            resource_type="Patient",
            resource_id=str(new.patient.id),
            actor_user_id=new.user.id,
            actor_role=Role.PATIENT,
        )
    )
    return auth_payload(signed_in)


async def _may_email(context: Context, email: str) -> bool:
    """Whether the address's verification budget allows the link now; if not, the
    patient signs up all the same and asks for a link later."""
    try:
        await require_account_message_budget(
            context.redis, context.services.settings.rate_limits, "verify", email, context.ip
        )
    except RateLimited:
        return False
    return True
