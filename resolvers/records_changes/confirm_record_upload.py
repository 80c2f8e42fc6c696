import strawberry

from domain.record_confirmation import confirm_record
from schema.context import Context
from schema.ids import parse_id
from schema.types.doctor import Doctor
from schema.types.record import MedicalRecord, asked_links
from services.errors import Forbidden, NotFound


async def resolve_confirm_record_upload(
    info: strawberry.Info[Context], record_id: strawberry.ID
) -> MedicalRecord:
    context = info.context
    caller = context.require_caller()
    id_ = parse_id(record_id, "recordId")
    try:
        async with context.sessions.begin() as session:
            record, doctor = await confirm_record(
                session, context.services.document_store, caller, id_
            )
    except (Forbidden, NotFound):
        context.audit.denied(
            "record.upload_confirmed", resource_type="MedicalRecord", resource_id=id_
        )
        raise
    context.audit.allowed(
        "record.upload_confirmed",
        patient_id=record.patient_id,
        resource_type="MedicalRecord",
        resource_id=record.id,
    )
    (link,) = await asked_links(info, [record])
    return MedicalRecord.from_model(
        record, Doctor.from_model(doctor) if doctor is not None else None, link
    )
