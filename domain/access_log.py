"""A patient's access log: the audit trail seen from the patient's side."""

import uuid
from dataclasses import dataclass

from sqlalchemy import func, select, tuple_
from sqlalchemy.ext.asyncio import AsyncSession

from db.models import AuditEntry, Doctor, Patient, User
from domain.access import require_patient_or_admin
from domain.caller import Caller
from domain.pagination import Cursor, Page, check_page_size

NOT_YOURS = "Only the patient and administrators may see who read this patient's data."


@dataclass(frozen=True, slots=True)
class AccessLogRow:
    entry: AuditEntry
    actor_name: str | None


def check_may_read_access_log(caller: Caller, patient_id: uuid.UUID) -> None:
    require_patient_or_admin(caller, patient_id, NOT_YOURS)


async def access_log(
    session: AsyncSession, patient_id: uuid.UUID, *, first: int, after: Cursor | None
) -> Page[AccessLogRow]:
    check_page_size(first)
    actor_name = func.coalesce(Doctor.name, Patient.name, User.email)
    query = (
        select(AuditEntry, actor_name)
        .outerjoin(User, User.id == AuditEntry.actor_user_id)
        .outerjoin(Doctor, Doctor.user_id == User.id)
        .outerjoin(Patient, Patient.user_id == User.id)
        .where(AuditEntry.patient_id == patient_id)
        .order_by(AuditEntry.at.desc(), AuditEntry.id.desc())
        .limit(first + 1)
    )
    if after is not None:
        query = query.where(tuple_(AuditEntry.at, AuditEntry.id) < (after.at, after.integer()))
    rows = [AccessLogRow(entry, name) for entry, name in (await session.execute(query)).all()]
    return Page(items=rows[:first], has_next_page=len(rows) > first)


def access_log_cursor(row: AccessLogRow) -> Cursor:
    return Cursor(row.entry.at, str(row.entry.id))
