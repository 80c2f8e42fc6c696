import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Index,
    String,
    Text,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, now_column, text_enum, uuid_pk
from db.enums import AppointmentStatus

_SCHEDULED = text("status = 'SCHEDULED'")


class Appointment(Base):
    __tablename__ = "appointments"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint(
            "(status = 'CANCELLED') = (cancelled_at IS NOT NULL)", name="cancelled_at_iff_cancelled"
        ),
        ForeignKeyConstraint(
            ["doctor_id", "clinic_id"],
            ["doctor_clinics.doctor_id", "doctor_clinics.clinic_id"],
            ondelete="RESTRICT",
        ),
        # PostgreSQL itself refuses double bookings of any length, for doctor and patient.
        ExcludeConstraint(
            ("doctor_id", "="),
            (text("tstzrange(starts_at, ends_at)"), "&&"),
            name="ex_appointments_doctor_no_overlap",
            using="gist",
            where=_SCHEDULED,
        ),
        ExcludeConstraint(
            ("patient_id", "="),
            (text("tstzrange(starts_at, ends_at)"), "&&"),
            name="ex_appointments_patient_no_overlap",
            using="gist",
            where=_SCHEDULED,
        ),
        Index("ix_appointments_doctor_starts_at", "doctor_id", "starts_at"),
        Index("ix_appointments_patient_starts_at", "patient_id", text("starts_at DESC"), "id"),
        # Reminders and dashboards scan upcoming active bookings only.
        Index("ix_appointments_scheduled_starts_at", "starts_at", postgresql_where=_SCHEDULED),
        # A retried booking with the same key returns the first result.
        Index(
            "uq_appointments_idempotency",
            "booked_by_user_id",
            "idempotency_key",
            unique=True,
            postgresql_where=text("idempotency_key IS NOT NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    doctor_id: Mapped[uuid.UUID]
    clinic_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("clinics.id", ondelete="RESTRICT"))
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[AppointmentStatus] = mapped_column(
        text_enum(AppointmentStatus, "appointment_status"),
        server_default=AppointmentStatus.SCHEDULED.value,
    )
    reason: Mapped[str | None] = mapped_column(Text)
    cancellation_reason: Mapped[str | None] = mapped_column(Text)
    cancelled_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    idempotency_key: Mapped[str | None] = mapped_column(String(128))
    booked_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime] = now_column()
    updated_at: Mapped[datetime] = now_column()
