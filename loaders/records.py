import uuid
from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db import models
from domain.audit import AuditTrail
from domain.caller import Caller
from domain.records import ListedRecord, RecordsPage, RecordsQuery, records_of_patients
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


async def load_document_urls(
    documents: DocumentLinks,
    caller: Caller | None,
    audit: AuditTrail,
    records: Sequence[models.MedicalRecord | ListedRecord],
) -> list[str]:
    """Links for every record's document asked for (a page, or the record just confirmed),
    in one pass, aligned with ``records``; each link issued is audited."""
    assert caller is not None  # records are reached only through a readable patient
    urls = await documents.read_urls(
        [(record.s3_key, record.file_name) for record in records], caller.user_id
    )
    audit.allowed_each(
        "record.document_url.issued",
        "MedicalRecord",
        [(record.patient_id, record.id) for record in records],
    )
    return urls
