import uuid
from datetime import datetime

from sqlalchemy import CheckConstraint, SmallInteger, String, Text, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, now_column, uuid_pk


class Clinic(Base):
    __tablename__ = "clinics"
    __table_args__ = (
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        CheckConstraint("length(timezone) > 0", name="timezone_not_blank"),
        CheckConstraint(
            "cancellation_cutoff_hours BETWEEN 0 AND 720", name="cancellation_cutoff_range"
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    name: Mapped[str] = mapped_column(String(200))
    address: Mapped[str | None] = mapped_column(Text)
    # IANA name, e.g. "Europe/Berlin"; validated against zoneinfo on write.
    timezone: Mapped[str] = mapped_column(String(64))
    # Patients may not cancel or reschedule within this many hours of the start.
    cancellation_cutoff_hours: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
    created_at: Mapped[datetime] = now_column()
