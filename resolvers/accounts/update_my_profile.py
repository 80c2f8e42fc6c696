from datetime import date

import strawberry
from sqlalchemy import select

from db.enums import AuditOutcome
from db.models import User
from domain.administration import Keep
from domain.audit import AuditEvent
from domain.auth.password_change import password_attempt
from domain.patient_profile import ProfileChanges, update_profile
from resolvers.admin.changes import given, given_or_cleared
from schema.context import Context
from schema.input_limits import NEW_EMAIL, PASSWORD, PERSON_NAME, PHONE, limited
from schema.types.patient import Patient
from services.errors import Forbidden
from services.rate_limits.message_budgets import require_account_message_budget


@strawberry.input(description="Fields left out keep their values.")
class UpdateProfileInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, metadata=limited(PERSON_NAME))
    date_of_birth: date | None = strawberry.field(
        default=strawberry.UNSET, description="Null removes it."
    )
    phone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="E.164; a new number is unverified until requestPhoneVerification's "
        "code comes back. Null removes it.",
        metadata=limited(PHONE),
    )
    email: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="A new address is unverified and is e-mailed a link at once; "
        "needs currentPassword.",
        metadata=limited(NEW_EMAIL),
    )
    sms_opt_in: bool | None = strawberry.UNSET
    email_opt_in: bool | None = strawberry.UNSET
    current_password: str | None = strawberry.field(
        default=None,
        description="The account's password: needed to change the e-mail address.",
        metadata=limited(PASSWORD),
    )


async def resolve_update_my_profile(
    info: strawberry.Info[Context], input: UpdateProfileInput
) -> Patient:
    context = info.context
    caller = context.require_caller()
    if caller.patient_id is None:
        raise Forbidden("Only patients have a profile to change.")
    changes = ProfileChanges(
        name=given(input.name, "name"),
        date_of_birth=given_or_cleared(input.date_of_birth),
        phone=given_or_cleared(input.phone),
        email=given(input.email, "email"),
        sms_opt_in=given(input.sms_opt_in, "smsOptIn"),
        email_opt_in=given(input.email_opt_in, "emailOptIn"),
        current_password=input.current_password,
    )
    if isinstance(changes.email, Keep):
        await _update(context, changes)
    else:
        async with context.sessions() as session:
            email = await session.scalar(select(User.email).where(User.id == caller.user_id))
        assert email is not None  # a signed-in patient's account exists
        # The password guards the address resets go to: a wrong one is a failed sign-in.
        async with password_attempt(context.redis, email, context.ip):
            await _update(context, changes)
    context.audit.record(
        AuditEvent(
            action="patient.profile_update",
            outcome=AuditOutcome.ALLOWED,
            patient_id=caller.patient_id,
            resource_type="Patient",
            resource_id=str(caller.patient_id),
        )
    )
    profile = await context.loaders.readable_patient.load(caller.patient_id)
    assert profile is not None  # a patient may always read themselves
    return Patient.from_profile(profile)


async def _update(context: Context, changes: ProfileChanges) -> None:
    caller = context.require_caller()
    async with context.sessions.begin() as session:
        changed = await update_profile(session, caller.user_id, changes)
        if changed.new_email is not None:
            # Before the commit: over budget, nothing changes.
            await require_account_message_budget(
                context.redis,
                context.services.settings.rate_limits,
                "verify",
                changed.new_email,
                context.ip,
            )
