from typing import Annotated

import strawberry

from db.enums import AuditOutcome
from domain.audit import AuditEvent
from domain.auth.verification import WRONG_CODE, verify_phone
from schema.context import Context
from schema.input_limits import VERIFICATION_CODE, limited
from schema.types.patient import Patient
from services.errors import BadUserInput, Forbidden


async def resolve_verify_phone(
    info: strawberry.Info[Context],
    code: Annotated[str, strawberry.argument(metadata=limited(VERIFICATION_CODE))],
) -> Patient:
    context = info.context
    caller = context.require_caller()
    if caller.patient_id is None:
        raise Forbidden("Only patients have a phone to verify.")
    # Committed either way: a wrong code's try must count.
    async with context.sessions.begin() as session:
        verified = await verify_phone(session, caller.user_id, code.strip())
    context.audit.record(
        AuditEvent(
            action="phone.verify",
            outcome=AuditOutcome.ALLOWED if verified else AuditOutcome.FAILED,
            patient_id=caller.patient_id,
            resource_type="Patient",
            resource_id=str(caller.patient_id),
        )
    )
    if verified is None:
        raise BadUserInput(WRONG_CODE)
    profile = await context.loaders.readable_patient.load(caller.patient_id)
    assert profile is not None  # a patient may always read themselves
    return Patient.from_profile(profile)
