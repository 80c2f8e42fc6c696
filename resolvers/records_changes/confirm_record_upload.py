import strawberry
from sqlalchemy import select

from db.enums import AuditOutcome, RecordStatus
from db.models import Doctor
from db.models import MedicalRecord as RecordRow
from domain.audit import AuditEvent
from domain.records import mark_available
from schema.context import Context
from schema.ids import parse_id
from schema.types.record import MedicalRecord
from services.errors import BadUserInput, Forbidden

NOT_YOURS = "You may not change this record."


async def resolve_confirm_record_upload(
    info: strawberry.Info[Context], record_id: strawberry.ID
) -> MedicalRecord:
    context = info.context
    context.require_caller()
    async with context.sessions.begin() as session:
        record = await session.scalar(
            select(RecordRow)
            .where(RecordRow.id == parse_id(record_id, "recordId"))
            .with_for_update()
        )
        if record is None:
            raise Forbidden(NOT_YOURS)
        await context.loaders.readable_patient.load(record.patient_id)
        if record.status is RecordStatus.PENDING:
            stored = await context.services.documents.stored(record.s3_key)
            if stored is None:
                raise BadUserInput("No document has been uploaded for this record yet.")
            mark_available(record, stored.size, stored.content_type)
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
