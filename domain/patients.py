"""Reading patients, always together with whether the caller may see them."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Select,
    Table,
    Uuid,
    any_,
    bindparam,
    false,
    literal,
    select,
    true,
)
from sqlalchemy.dialects.postgresql import ARRAY
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Appointment, Patient, User
from db.request_sessions import read_rows
from domain.caller import Caller


@dataclass(frozen=True, slots=True)
class PatientRow:
    """A patient as read to be shown: plain values from one row, not an ORM entity
    (read on the busiest path, and nothing in it is changed)."""

    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    date_of_birth: date | None
    phone: str | None
    phone_verified_at: datetime | None
    sms_opt_in: bool
    email_opt_in: bool
    created_at: datetime


@dataclass(frozen=True, slots=True)
class PatientProfile:
    patient: Patient | PatientRow
    email: str


_PATIENTS = cast(Table, Patient.__table__)
_USERS = cast(Table, User.__table__)
_APPOINTMENTS = cast(Table, Appointment.__table__)
_PATIENT_COLUMNS = tuple(_PATIENTS.c[name] for name in PatientRow.__slots__)


def _rule(kind: str, caller_patient_id: Any, caller_doctor_id: Any) -> ColumnElement[bool]:
    """The contract's rule as SQL, for a kind of caller (see _kind_of): admins see
    everyone, patients themselves, and doctors the patients who have or had an
    appointment with them. The caller's ids are values or bound parameters."""
    if kind == "everyone":
        return true()
    if kind == "themself":
        themself: ColumnElement[bool] = _PATIENTS.c.id == caller_patient_id
        return themself
    if kind == "their doctor":
        return (
            select(literal(1))
            .where(
                _APPOINTMENTS.c.patient_id == _PATIENTS.c.id,
                _APPOINTMENTS.c.doctor_id == caller_doctor_id,
            )
            .exists()
        )
    return false()


def _kind_of(caller: Caller) -> str:
    if caller.role is Role.ADMIN:
        return "everyone"
    if caller.role is Role.PATIENT:
        return "themself" if caller.patient_id is not None else "nobody"
    return "their doctor" if caller.doctor_id is not None else "nobody"


def may_read_patient(caller: Caller) -> ColumnElement[bool]:
    """The rule for ``caller``, its ids as values, for a statement built per call."""
    return _rule(_kind_of(caller), caller.patient_id, caller.doctor_id)


def _profiles(allowed: ColumnElement[bool]) -> Select[Any]:
    return (
        select(*_PATIENT_COLUMNS, _USERS.c.email, allowed.label("allowed"))
        .join(_USERS, _USERS.c.id == _PATIENTS.c.user_id)
        .where(_PATIENTS.c.id == any_(bindparam("ids", type_=ARRAY(Uuid()))))
    )


# Patients by id (``:ids``, an array), each with whether the caller may read it, one
# statement per kind of caller, the caller's ids bound parameters: built once
# (building a statement costs more CPU than running it), of Core columns, not ORM
# entities (plain rows, without the ORM's per-statement setup).
_PROFILES = {
    kind: _profiles(
        _rule(
            kind,
            bindparam("caller_patient_id", type_=Uuid()),
            bindparam("caller_doctor_id", type_=Uuid()),
        )
    )
    for kind in ("everyone", "themself", "their doctor", "nobody")
}


async def patients_for(
    sessions: async_sessionmaker[AsyncSession], caller: Caller, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[PatientProfile, bool]]:
    """The patients that exist among ``ids``, each with whether ``caller`` may read it,
    in one statement."""
    parameters = {
        "ids": list(ids),
        "caller_patient_id": caller.patient_id,
        "caller_doctor_id": caller.doctor_id,
    }
    rows = await read_rows(sessions, _PROFILES[_kind_of(caller)], parameters)
    found: dict[uuid.UUID, tuple[PatientProfile, bool]] = {}
    for row in rows:
        patient = PatientRow(*row[:9])
        found[patient.id] = (PatientProfile(patient, row[9]), bool(row[10]))
    return found
