from db.enums import AuditOutcome
from db.models import Appointment
from domain.audit import AuditEvent


def changed(action: str, appointment: Appointment) -> AuditEvent:
    return AuditEvent(
        action=action,
        outcome=AuditOutcome.ALLOWED,
        patient_id=appointment.patient_id,
        resource_type="Appointment",
        resource_id=str(appointment.id),
    )
