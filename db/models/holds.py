import uuid
from datetime import datetime

from sqlalchemy import (
    BigInteger,
    CheckConstraint,
    DateTime,
    ForeignKey,
    ForeignKeyConstraint,
    Identity,
    Index,
    text,
)
from sqlalchemy.dialects.postgresql import ExcludeConstraint
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, uuid_pk


class SlotHold(Base):
    """A slot kept for one patient until ``expires_at``: by holdSlot, or as a waitlist
    offer (``waitlist_entry_id``). Deleted when it ends (booked, released, replaced, or
    its expired time claimed by someone else); an expired one counts for nothing."""

    __tablename__ = "slot_holds"
    __table_args__ = (
        CheckConstraint("ends_at > starts_at", name="ends_after_start"),
        CheckConstraint("expires_at > created_at", name="expires_after_creation"),
        ForeignKeyConstraint(
            ["doctor_id", "clinic_id"],
            ["doctor_clinics.doctor_id", "doctor_clinics.clinic_id"],
            ondelete="CASCADE",
        ),
        # A patient holds one slot at a time (offers aside: nobody asked for them).
        Index(
            "uq_slot_holds_patient_id",
            "patient_id",
            unique=True,
            postgresql_where=text("waitlist_entry_id IS NULL"),
        ),
        Index("ix_slot_holds_doctor_id_starts_at", "doctor_id", "starts_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    doctor_id: Mapped[uuid.UUID]
    clinic_id: Mapped[uuid.UUID]
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    waitlist_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("waitlist_entries.id", ondelete="CASCADE"), unique=True
    )
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The domain's clock, like expires_at: the two bound the hold's life.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))


class SlotClaim(Base):
    """A doctor's time taken by a scheduled appointment or by a hold, one row each, kept
    by triggers on both tables (migration 0006): the one exclusion constraint that sees
    appointments and holds together. Nothing else reads or writes it."""

    __tablename__ = "slot_claims"
    __table_args__ = (
        CheckConstraint("num_nonnulls(appointment_id, hold_id) = 1", name="one_claimant"),
        ExcludeConstraint(
            ("doctor_id", "="),
            (text("tstzrange(starts_at, ends_at)"), "&&"),
            name="ex_slot_claims_doctor_no_overlap",
            using="gist",
        ),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    doctor_id: Mapped[uuid.UUID]
    starts_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    ends_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE"), unique=True
    )
    hold_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("slot_holds.id", ondelete="CASCADE"), unique=True
    )
