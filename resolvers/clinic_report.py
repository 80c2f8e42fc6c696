from datetime import date
from typing import Annotated

import strawberry

from domain.reports import clinic_report
from schema.context import Context
from schema.ids import parse_id
from schema.types.report import DoctorReportRow


async def resolve_clinic_report(
    info: strawberry.Info[Context],
    first_day: Annotated[date, strawberry.argument(name="from")],
    last_day: Annotated[date, strawberry.argument(name="to")],
    clinic_id: strawberry.ID | None = None,
) -> list[DoctorReportRow]:
    context = info.context
    clinic = parse_id(clinic_id, "clinicId") if clinic_id is not None else None
    # The analytics connection: a replica where there is one, read-only either way.
    async with context.services.analytics_sessions() as session:
        rows = await clinic_report(session, first_day, last_day, clinic)
    return [DoctorReportRow.from_report(row) for row in rows]
