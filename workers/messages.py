"""The words of each message: date, time, clinic and doctor, and no medical data."""

from zoneinfo import ZoneInfo

from db.enums import NotificationKind
from domain.notifications import AppointmentFacts
from domain.offer_messages import OfferFacts

_HEADLINES = {
    NotificationKind.CONFIRMATION: "Your appointment is booked",
    NotificationKind.REMINDER: "Reminder: your appointment",
    NotificationKind.CANCELLATION: "Your appointment is cancelled",
    NotificationKind.RESCHEDULE: "Your appointment has moved",
}


def render(kind: NotificationKind, facts: AppointmentFacts | OfferFacts) -> tuple[str, str]:
    """(subject, body) for one message."""
    if isinstance(facts, OfferFacts):
        return render_offer(facts)
    local = facts.appointment.starts_at.astimezone(ZoneInfo(facts.clinic_timezone))
    when = f"{local:%A %d %B %Y} at {local:%H:%M} ({local:%Z})"
    headline = _HEADLINES[kind]
    body = f"{headline}: {when} with {facts.doctor_name} at {facts.clinic_name}."
    return f"{headline} - {local:%d %b %Y %H:%M}", body


def render_offer(facts: OfferFacts) -> tuple[str, str]:
    zone = ZoneInfo(facts.clinic_timezone)
    entry = facts.entry
    assert entry.offer_starts_at is not None
    assert entry.offer_expires_at is not None
    local = entry.offer_starts_at.astimezone(zone)
    until = entry.offer_expires_at.astimezone(zone)
    when = f"{local:%A %d %B %Y} at {local:%H:%M} ({local:%Z})"
    body = (
        f"A slot has opened up: {when} with {facts.doctor_name} at {facts.clinic_name}. "
        f"It is held for you until {until:%H:%M} ({until:%Z}): accept it in the app."
    )
    return f"A slot has opened up - {local:%d %b %Y %H:%M}", body
