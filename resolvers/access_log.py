import uuid
from dataclasses import replace

import strawberry

from db.enums import AuditOutcome
from domain.access_log import access_log, access_log_cursor, check_may_read_access_log
from domain.audit import AuditEvent
from domain.errors import Forbidden
from domain.pagination import Cursor
from schema.context import Context
from schema.types.access_log import AccessLogEntry
from schema.types.connection import Connection


async def resolve_access_log(
    info: strawberry.Info[Context], patient_id: uuid.UUID, first: int | None, after: str | None
) -> Connection[AccessLogEntry]:
    context = info.context
    caller = context.require_caller()
    event = AuditEvent(
        action="patient.access_log.read",
        outcome=AuditOutcome.ALLOWED,
        patient_id=patient_id,
        resource_type="Patient",
        resource_id=str(patient_id),
    )
    try:
        check_may_read_access_log(caller, patient_id)
    except Forbidden:
        context.audit.record(replace(event, outcome=AuditOutcome.DENIED))
        raise
    context.audit.record(event)
    async with context.sessions() as session:
        page = await access_log(
            session,
            patient_id,
            first=20 if first is None else first,
            after=Cursor.decode(after) if after is not None else None,
        )
    return Connection.from_page(page, AccessLogEntry.from_row, access_log_cursor)
