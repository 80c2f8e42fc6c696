"""Uploading medical records: one mutation a file."""

import strawberry
from sqlalchemy import select

from db.enums import AuditOutcome, RecordStatus
from db.models import Doctor, Patient
from db.models import MedicalRecord as RecordRow
from domain.audit import AuditEvent
from domain.patients import may_read_patient
from domain.record_confirmation import confirm_upload
from schema.context import Context
from schema.ids import parse_id
from schema.types.record import MedicalRecord
from services.errors import Forbidden, NotFound

NOT_YOURS = "You may not change this record."


async def resolve_confirm_record_upload(
    info: strawberry.Info[Context], record_id: strawberry.ID
) -> MedicalRecord:
    """Who may read the record's patient may confirm it. Anyone else gets one answer,
    from one statement, whether or not the record exists."""
    context = info.context
    caller = context.require_caller()
    id_ = parse_id(record_id, "recordId")
    async with context.sessions.begin() as session:
        found = (
            await session.execute(
                select(RecordRow, may_read_patient(caller).label("allowed"))
                .join(Patient, Patient.id == RecordRow.patient_id)
                .where(RecordRow.id == id_)
                .with_for_update(of=RecordRow)
            )
        ).one_or_none()
        if found is None or not found.allowed:
            context.audit.record(
                AuditEvent(
                    action="record.upload_confirmed",
                    outcome=AuditOutcome.DENIED,
                    resource_type="MedicalRecord",
                    resource_id=str(id_),
                )
            )
            # Admins may see every record: only they learn that the id is unknown.
            raise NotFound("No record has that id.") if caller.is_admin else Forbidden(NOT_YOURS)
        record: RecordRow = found[0]
        if record.status is RecordStatus.PENDING:
            await confirm_upload(context.services.document_store, record)
        doctor = await session.get(Doctor, record.doctor_id) if record.doctor_id else None
    context.audit.record(
        AuditEvent(
            action="record.upload_confirmed",
            outcome=AuditOutcome.ALLOWED,
            patient_id=record.patient_id,
            resource_type="MedicalRecord",
            resource_id=str(record.id),
        )
    )
    return MedicalRecord.from_model(record, doctor)
