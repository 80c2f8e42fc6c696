from collections.abc import Sequence
from datetime import datetime

import strawberry
from strawberry.scalars import JSON

from db import models
from domain.records import ListedRecord
from loaders.records import load_document_urls
from schema.context import Context
from schema.pages import selects
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
    sha256: str | None = strawberry.field(
        description="The hex SHA-256 declared at upload, which the stored bytes matched."
    )
    # Read with the record (one statement for the page), made once per doctor of a
    # page: a plain field, no awaiting, no resolver call per record.
    doctor: Doctor | None
    doctor_name: str | None
    # A presigned GET URL: works with no other credentials, names the file. Issued (and
    # audited) only when asked for: for a whole page in one pass by Patient.records, for
    # the record confirmed by confirmRecordUpload. A plain field, no call per record.
    document_url: str | None = strawberry.field(graphql_type=str, default=None)

    @classmethod
    def from_model(
        cls,
        record: models.MedicalRecord | ListedRecord,
        doctor: Doctor | None,
        link: str | None = None,
    ) -> "MedicalRecord":
        assert record.uploaded_at is not None  # only AVAILABLE records are shown
        return cls(
            id=strawberry.ID(str(record.id)),
            record_type=record.record_type,
            title=record.title,
            file_name=record.file_name,
            content_type=record.content_type,
            size_bytes=record.size_bytes,
            uploaded_at=record.uploaded_at,
            sha256=record.sha256,
            doctor=doctor,
            doctor_name=doctor.name if doctor is not None else None,
            document_url=link,
        )


async def asked_links(
    info: strawberry.Info[Context], records: Sequence[models.MedicalRecord | ListedRecord]
) -> list[str | None]:
    """The records' document links, issued in one pass, when the field being resolved
    selects ``documentUrl`` below it; None each otherwise: each link issued is audited."""
    if not records or not selects(info, "documentUrl"):
        return [None] * len(records)
    context = info.context
    return list(
        await load_document_urls(
            context.services.documents,
            context.caller,
            context.audit,
            records,
        )
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
