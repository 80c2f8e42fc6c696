"""Row rules: which caller may see whose things. Loaders, fields and mutations ask here,
so each rule is written once. (Which patients and appointments a caller may read are
queries: ``domain.patients.patients_for`` and ``domain.appointments.appointments_for``.)"""

import uuid

from db.enums import Role
from domain.caller import Caller
from services.errors import Forbidden


def require_doctor_or_admin(caller: Caller, doctor_id: uuid.UUID, refusal: str) -> None:
    """The doctor themself, or an administrator: a schedule, days away."""
    if not (caller.is_admin or (caller.role is Role.DOCTOR and caller.doctor_id == doctor_id)):
        raise Forbidden(refusal)


def require_patient_or_admin(caller: Caller, patient_id: uuid.UUID, refusal: str) -> None:
    """The patient themself, or an administrator: messages sent, who read their data."""
    if not (caller.is_admin or caller.patient_id == patient_id):
        raise Forbidden(refusal)
