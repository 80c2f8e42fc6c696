"""Medical records: a PENDING row while the document travels to S3, AVAILABLE once it is there."""

import functools
import re
import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any, NamedTuple, cast

from sqlalchemy import DateTime, Integer, Select, Table, Uuid, any_, bindparam, func, select, tuple_
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import RecordStatus, RecordType, Role
from db.ids import uuid7
from db.models import Doctor, MedicalRecord
from db.request_sessions import read_rows
from domain.caller import Caller
from domain.pagination import Cursor, Page, check_page_size
from services.errors import BadUserInput

ALLOWED_CONTENT_TYPES = frozenset(
    {"application/pdf", "image/png", "image/jpeg", "application/dicom", "text/plain"}
)
MAX_TITLE_LENGTH = 300
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


@dataclass(frozen=True, slots=True)
class UploadRequest:
    patient_id: uuid.UUID
    record_type: RecordType
    title: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str | None = None  # lowercase hex, checked at confirmation


def object_key(patient_id: uuid.UUID, record_id: uuid.UUID, file_name: str) -> str:
    # The name the user gave is kept in the row; the key holds a safe copy of it.
    safe = _UNSAFE.sub("_", file_name).strip("._")[:100] or "document"
    return f"patients/{patient_id}/{record_id}/{safe}"


def staging_key(final_key: str) -> str:
    """Where the upload URL writes: never the key a document is served from, so a PUT
    after confirmation changes nothing anyone reads."""
    return f"staging/{final_key}"


def check_upload(request: UploadRequest, max_bytes: int) -> None:
    if request.content_type not in ALLOWED_CONTENT_TYPES:
        allowed = ", ".join(sorted(ALLOWED_CONTENT_TYPES))
        raise BadUserInput(
            f"`contentType` {request.content_type!r} is not allowed; use one of {allowed}."
        )
    if not 0 < request.size_bytes <= max_bytes:
        raise BadUserInput(f"`sizeBytes` must be between 1 and {max_bytes}.")
    if not request.title.strip() or len(request.title) > MAX_TITLE_LENGTH:
        raise BadUserInput(f"`title` must have 1 to {MAX_TITLE_LENGTH} characters.")
    if not request.file_name.strip() or len(request.file_name) > 255:
        raise BadUserInput("`fileName` must have 1 to 255 characters.")


async def create_pending(
    session: AsyncSession, caller: Caller, request: UploadRequest, max_bytes: int
) -> MedicalRecord:
    """A PENDING record for a document not yet uploaded. The caller's access to the
    patient is checked before. Does not commit."""
    check_upload(request, max_bytes)
    record_id = uuid7()
    record = MedicalRecord(
        id=record_id,
        patient_id=request.patient_id,
        doctor_id=caller.doctor_id if caller.role is Role.DOCTOR else None,
        uploaded_by_user_id=caller.user_id,
        record_type=request.record_type,
        title=request.title.strip(),
        file_name=request.file_name,
        content_type=request.content_type,
        size_bytes=request.size_bytes,
        sha256=request.sha256,
        s3_key=object_key(request.patient_id, record_id, request.file_name),
        status=RecordStatus.PENDING,
    )
    session.add(record)
    await session.flush()
    return record


def check_stored(record: MedicalRecord, stored_size: int, stored_type: str) -> None:
    """The stored object's size and type must be exactly what was declared."""
    if stored_size != record.size_bytes:
        raise BadUserInput(
            f"The uploaded document has {stored_size} bytes, not the declared {record.size_bytes}."
        )
    if stored_type.split(";", maxsplit=1)[0].strip().lower() != record.content_type:
        raise BadUserInput(
            f"The uploaded document is {stored_type!r}, not the declared {record.content_type!r}."
        )


def mark_available(record: MedicalRecord) -> None:
    record.status = RecordStatus.AVAILABLE
    record.uploaded_at = datetime.now(UTC)


class ListedDoctor(NamedTuple):
    """The doctor of a listed record: what a record's ``doctor`` shows."""

    id: uuid.UUID
    name: str
    specialty: str
    active: bool


class ListedRecord(NamedTuple):
    """A record as a page lists it: plain values from one row, not an ORM entity (a page
    of a hundred is read on the busiest path, and nothing in it is changed). A named
    tuple: immutable, and made in a fifth of a frozen dataclass's time."""

    id: uuid.UUID
    patient_id: uuid.UUID
    doctor_id: uuid.UUID | None
    record_type: RecordType
    title: str
    file_name: str
    content_type: str
    size_bytes: int
    sha256: str | None
    s3_key: str
    uploaded_at: datetime


@dataclass(frozen=True, slots=True)
class RecordsPage:
    """One patient's page of records, with each record's doctor."""

    page: Page[ListedRecord]
    doctors: dict[uuid.UUID, ListedDoctor]


@dataclass(frozen=True, slots=True)
class RecordsQuery:
    first: int
    after: Cursor | None
    record_type: RecordType | None


_RECORDS = cast(Table, MedicalRecord.__table__)
_DOCTORS = cast(Table, Doctor.__table__)
# Core columns, not ORM attributes: plain rows, without the ORM's per-statement setup.
_RECORD_COLUMNS = tuple(
    _RECORDS.c[name]
    for name in (
        "id",
        "patient_id",
        "doctor_id",
        "record_type",
        "title",
        "file_name",
        "content_type",
        "size_bytes",
        "sha256",
        "s3_key",
        "uploaded_at",
    )
)
_DOCTOR_COLUMNS = (_DOCTORS.c.name, _DOCTORS.c.specialty, _DOCTORS.c.active)


@functools.cache
def records_statement(by_type: bool, after: bool) -> Select[Any]:
    """A page of records for each of ``:patient_ids`` (an array), ``:rows`` of them at
    most, newest first: a window function limits each patient separately, and their
    doctors come along. Built once per shape (building a statement costs more CPU
    than running it); the values are bound parameters."""
    records = _RECORDS.c
    position = (
        func.row_number()
        .over(
            partition_by=records.patient_id,
            order_by=(records.uploaded_at.desc(), records.id.desc()),
        )
        .label("position")
    )
    ranked = select(records.id, position).where(
        records.patient_id == any_(bindparam("patient_ids", type_=ARRAY(Uuid()))),
        records.status == RecordStatus.AVAILABLE,
    )
    if by_type:
        ranked = ranked.where(records.record_type == bindparam("record_type"))
    if after:
        ranked = ranked.where(
            tuple_(records.uploaded_at, records.id)
            < tuple_(
                bindparam("after_at", type_=DateTime(timezone=True)),
                bindparam("after_id", type_=Uuid()),
            )
        )
    window = ranked.subquery()
    return (
        select(*_RECORD_COLUMNS, *_DOCTOR_COLUMNS)
        .join(window, window.c.id == records.id)
        .outerjoin(_DOCTORS, _DOCTORS.c.id == records.doctor_id)
        .where(window.c.position <= bindparam("rows", type_=Integer()))
        .order_by(records.patient_id, window.c.position)
    )


async def records_of_patients(
    sessions: async_sessionmaker[AsyncSession],
    patient_ids: Sequence[uuid.UUID],
    query: RecordsQuery,
) -> dict[uuid.UUID, RecordsPage]:
    """A page of AVAILABLE records, newest first, for each patient, in ONE statement
    (:func:`records_statement`)."""
    check_page_size(query.first)
    parameters: dict[str, Any] = {
        "patient_ids": list(patient_ids),
        # One row more than asked tells whether another page exists.
        "rows": query.first + 1,
    }
    if query.record_type is not None:
        parameters["record_type"] = query.record_type
    if query.after is not None:
        parameters["after_at"] = query.after.at
        parameters["after_id"] = query.after.uuid()
    statement = records_statement(query.record_type is not None, query.after is not None)
    rows = await read_rows(sessions, statement, parameters)
    records: defaultdict[uuid.UUID, list[ListedRecord]] = defaultdict(list)
    doctors: dict[uuid.UUID, ListedDoctor] = {}
    for row in rows:
        record = ListedRecord(*row[:11])
        records[record.patient_id].append(record)
        if record.doctor_id is not None and record.doctor_id not in doctors:
            doctors[record.doctor_id] = ListedDoctor(record.doctor_id, *row[11:])
    return {
        patient_id: RecordsPage(
            Page(records[patient_id][: query.first], len(records[patient_id]) > query.first),
            {r.doctor_id: doctors[r.doctor_id] for r in records[patient_id] if r.doctor_id},
        )
        for patient_id in patient_ids
    }


def record_cursor(record: ListedRecord) -> Cursor:
    return Cursor(record.uploaded_at, str(record.id))
