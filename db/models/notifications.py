import uuid
from datetime import datetime

from sqlalchemy import (
    CheckConstraint,
    DateTime,
    ForeignKey,
    Index,
    Integer,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, now_column, text_enum, uuid_pk
from db.enums import NotificationChannel, NotificationKind, NotificationStatus


class Notification(Base):
    """One message to one patient on one channel; the unique key makes a second send impossible."""

    __tablename__ = "notifications"
    __table_args__ = (
        UniqueConstraint("appointment_id", "kind", "channel", "scheduled_for"),
        UniqueConstraint("waitlist_entry_id", "kind", "channel", "scheduled_for"),
        # About an appointment, or about a waitlist offer (no appointment yet).
        CheckConstraint("num_nonnulls(appointment_id, waitlist_entry_id) = 1", name="one_subject"),
        CheckConstraint("attempts >= 0", name="attempts_not_negative"),
        Index(
            "ix_notifications_pending_scheduled_for",
            "scheduled_for",
            postgresql_where=text("status = 'PENDING'"),
        ),
        # The rescan looks for claims whose worker died; there are few at any time.
        Index(
            "ix_notifications_sending_claim_expires_at",
            "claim_expires_at",
            postgresql_where=text("status = 'SENDING'"),
        ),
        CheckConstraint(
            "(status = 'SENDING') = (claim_expires_at IS NOT NULL)",
            name="claim_only_while_sending",
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    appointment_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("appointments.id", ondelete="CASCADE")
    )
    waitlist_entry_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("waitlist_entries.id", ondelete="CASCADE")
    )
    kind: Mapped[NotificationKind] = mapped_column(text_enum(NotificationKind, "notification_kind"))
    channel: Mapped[NotificationChannel] = mapped_column(
        text_enum(NotificationChannel, "notification_channel")
    )
    scheduled_for: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    status: Mapped[NotificationStatus] = mapped_column(
        text_enum(NotificationStatus, "notification_status"),
        server_default=NotificationStatus.PENDING.value,
    )
    attempts: Mapped[int] = mapped_column(Integer, server_default=text("0"))
    provider_message_id: Mapped[str | None] = mapped_column(String(128))
    last_error: Mapped[str | None] = mapped_column(Text)
    sent_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # While SENDING: the worker that claimed it owns the send until then (database time).
    claim_expires_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # After a failed attempt: no retry before then (database time).
    next_attempt_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = now_column()
