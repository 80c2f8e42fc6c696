import uuid
from datetime import datetime, time

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKeyConstraint,
    Index,
    SmallInteger,
    Text,
    Time,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, now_column, uuid_pk


class ScheduleTemplate(Base):
    """A weekly working block in the clinic's local wall time, cut into equal slots."""

    __tablename__ = "schedule_templates"
    __table_args__ = (
        CheckConstraint("day_of_week BETWEEN 1 AND 7", name="iso_day_of_week"),
        CheckConstraint("end_time > start_time", name="ends_after_start"),
        CheckConstraint("slot_minutes BETWEEN 5 AND 240", name="slot_minutes_range"),
        ForeignKeyConstraint(
            ["doctor_id", "clinic_id"],
            ["doctor_clinics.doctor_id", "doctor_clinics.clinic_id"],
            ondelete="CASCADE",
        ),
        Index("ix_schedule_templates_doctor_clinic_day", "doctor_id", "clinic_id", "day_of_week"),
        # A doctor is in one place at a time: blocks on one weekday may not overlap.
        ExcludeConstraint(
            ("doctor_id", "="),
            ("day_of_week", "="),
            (text("tsrange(DATE '2000-01-01' + start_time, DATE '2000-01-01' + end_time)"), "&&"),
            name="ex_schedule_templates_no_overlap",
            using="gist",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    doctor_id: Mapped[uuid.UUID]
    clinic_id: Mapped[uuid.UUID]
    day_of_week: Mapped[int] = mapped_column(SmallInteger)
    start_time: Mapped[time] = mapped_column(Time)
    end_time: Mapped[time] = mapped_column(Time)
    slot_minutes: Mapped[int] = mapped_column(SmallInteger, server_default=text("30"))
    created_at: Mapped[datetime] = now_column()


class ScheduleException(Base):
    """The doctor is away from ``starts_at`` to ``ends_at``: no slot in it is offered."""

    __tablename__ = "schedule_exceptions"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        Index(
            "ix_schedule_exceptions_doctor_period",
            "doctor_id",
            text("tstzrange(starts_at, ends_at)"),
            postgresql_using="gist",
        ),
        ForeignKeyConstraint(["doctor_id"], ["doctors.id"], ondelete="CASCADE"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    doctor_id: Mapped[uuid.UUID]
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    reason: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = now_column()
