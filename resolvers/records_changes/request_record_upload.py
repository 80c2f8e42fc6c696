from typing import cast

import strawberry
from strawberry.scalars import JSON

from db.enums import AuditOutcome, RecordType
from domain.audit import AuditEvent
from domain.records import UploadRequest, check_upload, create_pending, staging_key
from schema.context import Context
from schema.ids import parse_id
from schema.input_limits import CONTENT_TYPE, FILE_NAME, RECORD_TITLE, SHA256_HEX, limited
from schema.types.record import PendingRecord, RecordUpload
from services.errors import NotFound


@strawberry.input
class RecordUploadInput:
    patient_id: strawberry.ID
    record_type: RecordType
    title: str = strawberry.field(metadata=limited(RECORD_TITLE))
    file_name: str = strawberry.field(metadata=limited(FILE_NAME))
    content_type: str = strawberry.field(
        description="application/pdf, image/png, image/jpeg, application/dicom or text/plain.",
        metadata=limited(CONTENT_TYPE),
    )
    size_bytes: int
    sha256: str | None = strawberry.field(
        default=None,
        description="Hex SHA-256 of the file: the upload must send it in the "
        "x-amz-checksum-sha256 header (in uploadHeaders), and confirmation checks it.",
        metadata=limited(SHA256_HEX),
    )


async def resolve_request_record_upload(
    info: strawberry.Info[Context], input: RecordUploadInput
) -> RecordUpload:
    context = info.context
    caller = context.require_caller()
    request = UploadRequest(
        patient_id=parse_id(input.patient_id, "patientId"),
        record_type=input.record_type,
        title=input.title,
        file_name=input.file_name,
        content_type=input.content_type,
        size_bytes=input.size_bytes,
        sha256=input.sha256.lower() if input.sha256 is not None else None,
    )
    max_bytes = context.services.settings.max_upload_bytes
    check_upload(request, max_bytes)
    # Who may read a patient may add to their records: the door checks and audits.
    # Only admins are told that no patient has the id (the door answers null).
    if await context.loaders.readable_patient.load(request.patient_id) is None:
        raise NotFound("No patient has that id.")
    async with context.sessions.begin() as session:
        record = await create_pending(session, caller, request, max_bytes)
    # The URL writes to a staging key: confirmation copies what it holds to the record's key.
    ticket = await context.services.documents.upload_ticket(
        staging_key(record.s3_key), record.content_type, record.sha256
    )
    context.audit.record(
        AuditEvent(
            action="record.upload_requested",
            outcome=AuditOutcome.ALLOWED,
            patient_id=record.patient_id,
            resource_type="MedicalRecord",
            resource_id=str(record.id),
        )
    )
    return RecordUpload(
        record=PendingRecord(
            id=strawberry.ID(str(record.id)),
            title=record.title,
            file_name=record.file_name,
            content_type=record.content_type,
            size_bytes=record.size_bytes,
        ),
        upload_url=ticket.url,
        upload_headers=cast(JSON, ticket.headers),
        expires_at=ticket.expires_at,
    )
