"""Confirming an upload: from then on the document cannot change.

The upload URL writes to a staging key. Confirmation copies that object, inside S3,
to the record's own key, which no URL we issue can write to, and then checks the
copy (size, type, leading bytes, declared SHA-256): the bytes checked are the bytes
served, and a PUT racing the confirmation changes only the staging object. A copy
that fails a check is deleted; the staging object is deleted once the record is
listed (a PUT after that creates a staging object nobody reads).
"""

import uuid
from contextlib import aclosing
from typing import Final

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import RecordStatus
from db.models import Doctor, MedicalRecord, Patient
from domain.caller import Caller
from domain.document_types import LEADING_BYTES, content_problem, needs_every_byte
from domain.patients import may_read_patient
from domain.records import check_stored, mark_available, staging_key
from services.document_store import DocumentStore
from services.errors import BadUserInput, Forbidden, NotFound

NOTHING_UPLOADED: Final = "No document has been uploaded for this record yet."
NOT_YOURS: Final = "You may not change this record."


async def confirm_record(
    session: AsyncSession, storage: DocumentStore, caller: Caller, record_id: uuid.UUID
) -> tuple[MedicalRecord, Doctor | None]:
    """Who may read the record's patient may confirm it; anyone else gets one answer, from
    one statement, whether or not the record exists (only admins learn it is unknown).
    The row stays locked while S3 copies and checks: two confirmations of one record
    take turns instead of racing on its staging object. Does not commit."""
    found = (
        await session.execute(
            select(MedicalRecord, may_read_patient(caller).label("allowed"))
            .join(Patient, Patient.id == MedicalRecord.patient_id)
            .where(MedicalRecord.id == record_id)
            .with_for_update(of=MedicalRecord)
        )
    ).one_or_none()
    if found is None or not found.allowed:
        raise NotFound("No record has that id.") if caller.is_admin else Forbidden(NOT_YOURS)
    record: MedicalRecord = found[0]
    if record.status is RecordStatus.PENDING:
        await confirm_upload(storage, record)
    doctor = await session.get(Doctor, record.doctor_id) if record.doctor_id else None
    return record, doctor


async def confirm_upload(storage: DocumentStore, record: MedicalRecord) -> None:
    """``record`` is locked and PENDING; it is AVAILABLE when this returns. Does not commit.

    :raise BadUserInput: nothing was uploaded, or it is not what was declared.
    """
    staging = staging_key(record.s3_key)
    if await storage.stored(staging) is None:
        raise BadUserInput(NOTHING_UPLOADED)
    await storage.copy(staging, record.s3_key)
    try:
        stored = await storage.stored(record.s3_key)
        if stored is None:
            raise BadUserInput(NOTHING_UPLOADED)
        check_stored(record, stored.size, stored.content_type)
        whole = needs_every_byte(record.content_type, record.sha256)
        chunks = storage.chunks(record.s3_key, first_bytes=None if whole else LEADING_BYTES)
        # Closed at once even when the check stops early: the S3 response goes back.
        async with aclosing(chunks):
            problem = await content_problem(record.content_type, chunks, record.sha256)
        if problem is not None:
            raise BadUserInput(problem)
    except BadUserInput:
        await storage.delete(record.s3_key)
        raise
    mark_available(record)
    await storage.delete(staging)
