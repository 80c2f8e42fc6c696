"""Confirming an upload: from then on the document cannot change.

The upload URL writes to a staging key. Confirmation copies that object, inside S3,
to the record's own key, which no URL we issue can write to, and then checks the
copy (size, type, leading bytes, declared SHA-256): the bytes checked are the bytes
served, and a PUT racing the confirmation changes only the staging object. A copy
that fails a check is deleted; the staging object is deleted once the record is
listed (a PUT after that creates a staging object nobody reads).
"""

from contextlib import aclosing
from typing import Final

from db.models import MedicalRecord
from domain.document_types import LEADING_BYTES, content_problem, needs_every_byte
from domain.records import check_stored, mark_available, staging_key
from services.document_store import DocumentStore
from services.errors import BadUserInput

NOTHING_UPLOADED: Final = "No document has been uploaded for this record yet."


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
