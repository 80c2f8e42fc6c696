import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, DateTime, ForeignKey, ForeignKeyConstraint, Index, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, text_enum, uuid_pk
from db.enums import WaitlistStatus


class WaitlistEntry(Base):
    """A patient waiting for a slot of one doctor at one clinic within [window_from,
    window_to]. An offer (a hold for the patient) is described here too, so it can be
    shown and messaged after its hold is gone."""

    __tablename__ = "waitlist_entries"
    __table_args__ = (
        CheckConstraint("window_to > window_from", name="window_not_empty"),
        CheckConstraint(
            "num_nulls(offered_at, offer_starts_at, offer_ends_at, offer_expires_at) IN (0, 4)",
            name="offer_complete",
        ),
        CheckConstraint(
            "status NOT IN ('OFFERED', 'BOOKED') OR offered_at IS NOT NULL",
            name="offered_has_offer",
        ),
        ForeignKeyConstraint(
            ["doctor_id", "clinic_id"],
            ["doctor_clinics.doctor_id", "doctor_clinics.clinic_id"],
            ondelete="CASCADE",
        ),
        # Who is next for a freed slot: the earliest waiting entry of that doctor and clinic.
        Index(
            "ix_waitlist_entries_waiting",
            "doctor_id",
            "clinic_id",
            "created_at",
            postgresql_where=text("status = 'WAITING'"),
        ),
        Index("ix_waitlist_entries_patient_id_created_at", "patient_id", "created_at"),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="CASCADE"))
    doctor_id: Mapped[uuid.UUID]
    clinic_id: Mapped[uuid.UUID]
    window_from: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    window_to: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[WaitlistStatus] = mapped_column(
        text_enum(WaitlistStatus, "waitlist_status"), server_default=WaitlistStatus.WAITING.value
    )
    offered_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offer_starts_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offer_ends_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    offer_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="SET NULL")
    )
    created_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    # The domain's clock: who joined first is who is offered first.
    created_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    updated_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
