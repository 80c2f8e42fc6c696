from datetime import datetime
from typing import Annotated

import strawberry

from domain.slot_search import FoundSlot, SlotSearch, found_slot_cursor
from loaders.slot_search import search_slots
from schema.context import Context
from schema.ids import parse_id
from schema.input_limits import CURSOR, SPECIALTY_FILTER, limited
from schema.pages import cursor, page_size
from schema.types.clinic import shown_clinics
from schema.types.connection import Connection
from schema.types.doctor import Slot


@strawberry.input(
    description="Every filter given must match; `from` and `to` at most 31 days apart."
)
class SlotSearchInput:
    from_: datetime = strawberry.field(name="from", description="Slots starting at or after this.")
    to: datetime = strawberry.field(description="Slots starting before this.")
    specialty: str | None = strawberry.field(default=None, metadata=limited(SPECIALTY_FILTER))
    clinic_id: strawberry.ID | None = None
    doctor_ids: list[strawberry.ID] | None = strawberry.field(
        default=None, description="At most 100."
    )


async def resolve_search_slots(
    info: strawberry.Info[Context],
    search: Annotated[SlotSearchInput, strawberry.argument(name="filter")],
    first: int | None = 20,
    after: Annotated[str | None, strawberry.argument(metadata=limited(CURSOR))] = None,
) -> Connection[Slot]:
    context = info.context
    page = await search_slots(
        context.sessions,
        context.slot_cache,
        SlotSearch(
            start=search.from_,
            end=search.to,
            specialty=search.specialty,
            clinic_id=parse_id(search.clinic_id, "clinicId") if search.clinic_id else None,
            doctor_ids=(
                [parse_id(id_, "doctorIds") for id_ in search.doctor_ids]
                if search.doctor_ids is not None
                else None
            ),
        ),
        first=page_size(first),
        after=cursor(after),
    )
    on_page = {found.doctor_id for found in page.page.items}
    for doctor in page.doctors:
        if doctor.id in on_page:
            # Slot.doctor then costs no statement: the search read them already.
            context.loaders.doctor.prime(doctor.id, doctor.model())
    clinics = shown_clinics(
        await context.services.clinics.get_many(found.slot.clinic_id for found in page.page.items)
    )

    def node(found: FoundSlot) -> Slot:
        return Slot.of(found.slot, clinics[found.slot.clinic_id], found.doctor_id)

    return Connection.from_page(page.page, node, found_slot_cursor)
