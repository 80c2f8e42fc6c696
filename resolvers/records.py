import uuid

import strawberry

from db.enums import AuditOutcome, RecordType
from domain.audit import AuditEvent
from domain.pagination import Cursor
from domain.records import RecordsQuery, record_cursor
from loaders.records import RecordsKey
from schema.context import Context
from schema.types.connection import Connection
from schema.types.record import MedicalRecord


async def resolve_patient_records(
    info: strawberry.Info[Context],
    patient_id: uuid.UUID,
    first: int | None,
    after: str | None,
    record_type: RecordType | None,
) -> Connection[MedicalRecord]:
    """Reached only through a Patient the caller may read."""
    context = info.context
    context.audit.record(
        AuditEvent(
            action="patient.records.read",
            outcome=AuditOutcome.ALLOWED,
            patient_id=patient_id,
            resource_type="Patient",
            resource_id=str(patient_id),
        )
    )
    query = RecordsQuery(
        first=20 if first is None else first,
        after=Cursor.decode(after) if after is not None else None,
        record_type=record_type,
    )
    result = await context.loaders.records.load(RecordsKey(patient_id, query))
    return Connection.from_page(
        result.page,
        lambda record: MedicalRecord.from_model(record, result.doctor_of(record)),
        record_cursor,
    )
