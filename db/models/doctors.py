import uuid
from datetime import datetime

from sqlalchemy import Boolean, CheckConstraint, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, now_column, uuid_pk


class Doctor(Base):
    __tablename__ = "doctors"
    __table_args__ = (
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        # Keyset pagination: newest first, id breaks ties.
        Index("ix_doctors_created_at_id", "created_at", "id"),
        Index("ix_doctors_specialty_created_at_id", "specialty", "created_at", "id"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), unique=True
    )
    name: Mapped[str] = mapped_column(String(200))
    specialty: Mapped[str] = mapped_column(String(100))
    # An inactive doctor offers no slots and is not listed; their bookings stay.
    active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime] = now_column()


class DoctorClinic(Base):
    """A doctor works at a clinic; templates and appointments must name such a pair."""

    __tablename__ = "doctor_clinics"
    __table_args__ = (Index("ix_doctor_clinics_clinic_id", "clinic_id"),)

    doctor_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("doctors.id", ondelete="CASCADE"), primary_key=True
    )
    clinic_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("clinics.id", ondelete="RESTRICT"), primary_key=True
    )
