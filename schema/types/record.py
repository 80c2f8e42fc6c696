from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from db import models
from loaders.records import DocumentRef
from medappt.context import Context
from schema.types.doctor import Doctor
from schema.types.enums import RecordType


@strawberry.type
class MedicalRecord:
    id: strawberry.ID
    record_type: RecordType
    title: str
    file_name: str
    content_type: str
    size_bytes: int
    uploaded_at: datetime
    row: strawberry.Private[models.MedicalRecord]

    async def _doctor(self, info: strawberry.Info[Context]) -> models.Doctor | None:
        if self.row.doctor_id is None:
            return None
        return await info.context.loaders.doctor.load(self.row.doctor_id)

    @strawberry.field
    async def doctor(self, info: strawberry.Info[Context]) -> Doctor | None:
        doctor = await self._doctor(info)
        return Doctor.from_model(doctor) if doctor is not None else None

    @strawberry.field
    async def doctor_name(self, info: strawberry.Info[Context]) -> str | None:
        doctor = await self._doctor(info)
        return doctor.name if doctor is not None else None

    # A presigned GET URL: works with no other credentials, names the file.
    @strawberry.field
    async def document_url(self, info: strawberry.Info[Context]) -> str:
        return await info.context.loaders.document_url.load(
            DocumentRef(self.row.id, self.row.patient_id, self.row.s3_key, self.row.file_name)
        )

    @classmethod
    def from_model(cls, record: models.MedicalRecord) -> "MedicalRecord":
        assert record.uploaded_at is not None  # only AVAILABLE records are shown
        return cls(
            id=strawberry.ID(str(record.id)),
            record_type=record.record_type,
            title=record.title,
            file_name=record.file_name,
            content_type=record.content_type,
            size_bytes=record.size_bytes,
            uploaded_at=record.uploaded_at,
            row=record,
        )


@strawberry.type
class PendingRecord:
    """A record waiting for its document; confirmRecordUpload makes it a MedicalRecord."""

    id: strawberry.ID
    title: str
    file_name: str
    content_type: str
    size_bytes: int


@strawberry.type
class RecordUpload:
    record: PendingRecord
    upload_url: str
    upload_headers: JSON = strawberry.field(description="Send these headers with the PUT, exactly.")
    expires_at: datetime
