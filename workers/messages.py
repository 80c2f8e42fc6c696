"""The words of each message: date, time, clinic and doctor, and no medical data."""

from zoneinfo import ZoneInfo

from db.enums import NotificationKind
from domain.notifications import AppointmentFacts

_HEADLINES = {
    NotificationKind.CONFIRMATION: "Your appointment is booked",
    NotificationKind.REMINDER: "Reminder: your appointment",
    NotificationKind.CANCELLATION: "Your appointment is cancelled",
    NotificationKind.RESCHEDULE: "Your appointment has moved",
}


def render(kind: NotificationKind, facts: AppointmentFacts) -> tuple[str, str]:
    """(subject, body) for one message."""
    local = facts.appointment.starts_at.astimezone(ZoneInfo(facts.clinic_timezone))
    when = f"{local:%A %d %B %Y} at {local:%H:%M} ({local:%Z})"
    headline = _HEADLINES[kind]
    body = f"{headline}: {when} with {facts.doctor_name} at {facts.clinic_name}."
    return f"{headline} - {local:%d %b %Y %H:%M}", body
