import strawberry

from domain.administration import ClinicChanges, update_clinic
from resolvers.admin.changes import given, given_or_cleared
from schema.context import Context
from schema.ids import parse_id
from schema.input_limits import ADDRESS, CLINIC_NAME, TIME_ZONE, limited
from schema.types.clinic import Clinic


@strawberry.input(description="Fields left out keep their values; a null address clears it.")
class UpdateClinicInput:
    name: str | None = strawberry.field(default=strawberry.UNSET, metadata=limited(CLINIC_NAME))
    address: str | None = strawberry.field(default=strawberry.UNSET, metadata=limited(ADDRESS))
    timezone: str | None = strawberry.field(
        default=strawberry.UNSET,
        description="IANA time zone, e.g. Europe/Berlin.",
        metadata=limited(TIME_ZONE),
    )
    cancellation_cutoff_hours: int | None = strawberry.field(
        default=strawberry.UNSET,
        description="0 to 720: patients cannot cancel or reschedule this close to the start.",
    )


async def resolve_update_clinic(
    info: strawberry.Info[Context], id: strawberry.ID, input: UpdateClinicInput
) -> Clinic:
    context = info.context
    changes = ClinicChanges(
        name=given(input.name, "name"),
        address=given_or_cleared(input.address),
        timezone=given(input.timezone, "timezone"),
        cancellation_cutoff_hours=given(input.cancellation_cutoff_hours, "cancellationCutoffHours"),
    )
    async with context.sessions.begin() as session:
        clinic, stale = await update_clinic(session, parse_id(id), changes)
    await context.slot_cache.invalidate_days(stale)
    # This process shows the change at once; others within the directory's refresh.
    context.services.clinics.expire()
    return Clinic.from_model(clinic)
