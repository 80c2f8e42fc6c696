"""Reading patients, always together with whether the caller may see them."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass

from sqlalchemy import ColumnElement, false, literal, select, true
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import Role
from db.models import Appointment, Patient, User
from domain.caller import Caller


@dataclass(frozen=True, slots=True)
class PatientProfile:
    patient: Patient
    email: str


def may_read_patient(caller: Caller) -> ColumnElement[bool]:
    """The contract's rule as SQL: admins see everyone, patients themselves, and doctors
    the patients who have or had an appointment with them."""
    if caller.role is Role.ADMIN:
        return true()
    if caller.role is Role.PATIENT:
        return Patient.id == caller.patient_id if caller.patient_id else false()
    if caller.doctor_id is None:
        return false()
    return (
        select(literal(1))
        .where(Appointment.patient_id == Patient.id, Appointment.doctor_id == caller.doctor_id)
        .exists()
    )


async def patients_for(
    session: AsyncSession, caller: Caller, ids: Sequence[uuid.UUID]
) -> dict[uuid.UUID, tuple[PatientProfile, bool]]:
    """The patients that exist among ``ids``, each with whether ``caller`` may read it,
    in one statement."""
    rows = await session.execute(
        select(Patient, User.email, may_read_patient(caller).label("allowed"))
        .join(User, User.id == Patient.user_id)
        .where(Patient.id.in_(ids))
    )
    return {
        patient.id: (PatientProfile(patient, email), bool(allowed))
        for patient, email, allowed in rows.all()
    }
