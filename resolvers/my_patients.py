from typing import Annotated, Final

import strawberry

from db.models import User
from domain.patient_search import my_patients, patient_cursor
from schema.context import Context
from schema.input_limits import CURSOR, Text, limited
from schema.pages import cursor, page_size
from schema.types.connection import Connection
from schema.types.patient import Patient

# A part of a name or of an e-mail address: no longer than the longer of the two.
PATIENT_SEARCH: Final = Text.of(User.email)


async def resolve_my_patients(
    info: strawberry.Info[Context],
    search: Annotated[str | None, strawberry.argument(metadata=limited(PATIENT_SEARCH))] = None,
    first: int | None = 20,
    after: Annotated[str | None, strawberry.argument(metadata=limited(CURSOR))] = None,
) -> Connection[Patient]:
    context = info.context
    caller = context.require_caller()
    async with context.sessions() as session:
        page = await my_patients(
            session,
            caller,
            search=search,
            first=page_size(first),
            after=cursor(after),
        )
    for profile in page.items:
        # Listed is read: every patient shown is audited like any other read.
        context.audit.allowed("patient.read", patient_id=profile.patient.id)
        context.loaders.readable_patient.prime(profile.patient.id, profile)
    return Connection.from_page(page, Patient.from_profile, patient_cursor)
