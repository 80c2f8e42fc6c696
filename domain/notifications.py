"""Which messages an appointment's patient gets, and when: rows first, sending later.

Each message is a row whose unique key (appointment, kind, channel, scheduled
time) makes planning idempotent: a planner job that runs twice adds nothing,
and a message recorded once can be sent at most once.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NamedTuple, Protocol

from sqlalchemy import Row, select, update
from sqlalchemy.dialects.postgresql import insert
from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AppointmentStatus, NotificationChannel, NotificationKind, NotificationStatus
from db.models import Appointment, Clinic, Doctor, Notification, Patient, User, WaitlistEntry
from domain.message_claims import ready_to_send


@dataclass(frozen=True, slots=True)
class AppointmentFacts:
    """What a message may say: when, where, with whom. Nothing medical."""

    appointment: Appointment
    doctor_name: str
    clinic_name: str
    clinic_timezone: str
    patient_name: str
    phone: str | None
    email: str
    sms_opt_in: bool
    email_opt_in: bool
    phone_verified: bool
    email_verified: bool

    def address(self, channel: NotificationChannel) -> str | None:
        return consented_address(channel, self)


class Recipient(Protocol):
    @property
    def phone(self) -> str | None: ...
    @property
    def email(self) -> str: ...
    @property
    def sms_opt_in(self) -> bool: ...
    @property
    def email_opt_in(self) -> bool: ...
    @property
    def phone_verified(self) -> bool: ...
    @property
    def email_verified(self) -> bool: ...


def consented_address(channel: NotificationChannel, to: Recipient) -> str | None:
    """Where to send on ``channel``, or None without consent or a verified address:
    an address nobody proved is nobody's to message (SMS pumping, harassment)."""
    if channel is NotificationChannel.SMS:
        return to.phone if to.sms_opt_in and to.phone_verified else None
    return to.email if to.email_opt_in and to.email_verified else None


async def message_subject(
    session: AsyncSession,
    subject: type[Appointment] | type[WaitlistEntry],
    subject_id: uuid.UUID,
) -> Row[Any, str, str, str, Patient, str, datetime | None] | None:
    """The row a message is about, with what every message says of it (doctor, clinic
    and its zone) and where it may go (the patient, their e-mail and its verification)."""
    result = await session.execute(
        select(
            subject,
            Doctor.name,
            Clinic.name,
            Clinic.timezone,
            Patient,
            User.email,
            User.email_verified_at,
        )
        .join(Doctor, Doctor.id == subject.doctor_id)
        .join(Clinic, Clinic.id == subject.clinic_id)
        .join(Patient, Patient.id == subject.patient_id)
        .join(User, User.id == Patient.user_id)
        .where(subject.id == subject_id)
    )
    return result.one_or_none()


async def appointment_facts(
    session: AsyncSession, appointment_id: uuid.UUID
) -> AppointmentFacts | None:
    row = await message_subject(session, Appointment, appointment_id)
    if row is None:
        return None
    appointment, doctor_name, clinic_name, timezone, patient, email, email_verified_at = row
    return AppointmentFacts(
        appointment=appointment,
        doctor_name=doctor_name,
        clinic_name=clinic_name,
        clinic_timezone=timezone,
        patient_name=patient.name,
        phone=patient.phone,
        email=email,
        sms_opt_in=patient.sms_opt_in,
        email_opt_in=patient.email_opt_in,
        phone_verified=patient.phone_verified_at is not None,
        email_verified=email_verified_at is not None,
    )


async def _plan(
    session: AsyncSession,
    facts: AppointmentFacts,
    kind: NotificationKind,
    times: Sequence[datetime],
) -> None:
    rows = [
        {
            "appointment_id": facts.appointment.id,
            "kind": kind,
            "channel": channel,
            "scheduled_for": at,
        }
        for at in times
        for channel in NotificationChannel
        if facts.address(channel) is not None
    ]
    if rows:
        await session.execute(insert(Notification).values(rows).on_conflict_do_nothing())


def reminder_times(
    appointment: Appointment, offsets: Sequence[timedelta], now: datetime
) -> list[datetime]:
    return [
        appointment.starts_at - offset for offset in offsets if appointment.starts_at - offset > now
    ]


async def _skip_stale_reminders(
    session: AsyncSession, appointment: Appointment, keep: Sequence[datetime]
) -> None:
    """Reminders for a time the appointment no longer has are never sent."""
    await session.execute(
        update(Notification)
        .where(
            Notification.appointment_id == appointment.id,
            Notification.kind == NotificationKind.REMINDER,
            Notification.status == NotificationStatus.PENDING,
            Notification.scheduled_for.not_in(keep),
        )
        .values(status=NotificationStatus.SKIPPED, last_error="appointment changed")
    )


async def plan_for_event(
    session: AsyncSession,
    appointment_id: uuid.UUID,
    kind: NotificationKind,
    offsets: Sequence[timedelta],
    now: datetime,
) -> None:
    """Record the notice of a booking, cancellation or move, and bring the
    reminders in line with the appointment as it now is. Does not commit."""
    facts = await appointment_facts(session, appointment_id)
    if facts is None:
        return
    appointment = facts.appointment
    # The event's own time: a planner that runs twice plans the same rows.
    notice_at = {
        NotificationKind.CONFIRMATION: appointment.created_at,
        NotificationKind.CANCELLATION: appointment.cancelled_at,
        NotificationKind.RESCHEDULE: appointment.updated_at,
    }[kind]
    assert notice_at is not None
    await _plan(session, facts, kind, [notice_at])
    reminders = (
        reminder_times(appointment, offsets, now)
        if appointment.status is AppointmentStatus.SCHEDULED
        else []
    )
    await _skip_stale_reminders(session, appointment, reminders)
    await _plan(session, facts, NotificationKind.REMINDER, reminders)


class DueMessage(NamedTuple):
    id: uuid.UUID
    attempts: int  # attempts made so far: names the send job of the next one


async def due(
    session: AsyncSession,
    now: datetime,
    appointment_id: uuid.UUID | None = None,
    limit: int = 500,
) -> list[DueMessage]:
    """Messages ready to send at ``now`` (of one appointment, if given): due and
    unclaimed, or claimed by a worker whose lease ran out."""
    query = (
        select(Notification.id, Notification.attempts)
        .where(ready_to_send(now))
        .order_by(Notification.scheduled_for)
        .limit(limit)
    )
    if appointment_id is not None:
        query = query.where(Notification.appointment_id == appointment_id)
    return [DueMessage(*row) for row in (await session.execute(query)).all()]


async def notifications_of(
    session: AsyncSession, appointment_ids: Sequence[uuid.UUID]
) -> Sequence[Notification]:
    return (
        await session.scalars(
            select(Notification)
            .where(Notification.appointment_id.in_(appointment_ids))
            .order_by(Notification.scheduled_for, Notification.kind, Notification.channel)
        )
    ).all()
