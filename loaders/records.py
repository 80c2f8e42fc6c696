import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from typing import NamedTuple

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from domain.audit import AuditTrail
from domain.caller import Caller
from domain.records import RecordsPage, RecordsQuery, records_of_patients
from services.documents import DocumentLinks


@dataclass(frozen=True, slots=True)
class RecordsKey:
    patient_id: uuid.UUID
    query: RecordsQuery


async def load_records(
    sessions: async_sessionmaker[AsyncSession], keys: Sequence[RecordsKey]
) -> list[RecordsPage]:
    """Pages of records for many patients: one statement per distinct page shape
    (first, after, type), which is one for a whole schedule. The records' doctors
    come with them, so `doctor { name }` costs nothing more."""
    by_query: defaultdict[RecordsQuery, list[uuid.UUID]] = defaultdict(list)
    for key in keys:
        by_query[key.query].append(key.patient_id)
    pages: dict[RecordsKey, RecordsPage] = {}
    for query, patient_ids in by_query.items():
        found = await records_of_patients(sessions, patient_ids, query)
        for patient_id, page in found.items():
            pages[RecordsKey(patient_id, query)] = page
    return [pages[key] for key in keys]


class DocumentRef(NamedTuple):
    """A document whose link is asked for, one per record of a page (a named tuple is
    made in a fifth of a frozen dataclass's time)."""

    record_id: uuid.UUID
    patient_id: uuid.UUID
    key: str
    file_name: str


async def load_document_urls(
    documents: DocumentLinks, caller: Caller | None, audit: AuditTrail, refs: Sequence[DocumentRef]
) -> list[str]:
    """Links for every document asked for (a page, or the record just confirmed), in one
    pass, aligned with ``refs``; each link issued is audited."""
    assert caller is not None  # records are reached only through a readable patient
    urls = await documents.read_urls([(ref.key, ref.file_name) for ref in refs], caller.user_id)
    audit.allowed_each(
        "record.document_url.issued",
        "MedicalRecord",
        [(ref.patient_id, ref.record_id) for ref in refs],
    )
    return urls
