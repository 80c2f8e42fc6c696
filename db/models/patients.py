import uuid
from datetime import date, datetime

from sqlalchemy import Boolean, CheckConstraint, Date, DateTime, ForeignKey, Index, String, true
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, now_column, uuid_pk


class Patient(Base):
    __tablename__ = "patients"
    __table_args__ = (
        CheckConstraint("length(trim(name)) > 0", name="name_not_blank"),
        Index("ix_patients_created_at_id", "created_at", "id"),
        # myPatients finds any part of a name, in any case (pg_trgm).
        Index(
            "ix_patients_name_trgm",
            "name",
            postgresql_using="gin",
            postgresql_ops={"name": "gin_trgm_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(
        ForeignKey("users.id", ondelete="RESTRICT"), unique=True
    )
    name: Mapped[str] = mapped_column(String(200))
    date_of_birth: Mapped[date | None] = mapped_column(Date)
    phone: Mapped[str | None] = mapped_column(String(32))
    # When the owner typed the code texted to this number; a new number starts unverified.
    phone_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Consent to be contacted per channel; notifications honour it at send time.
    sms_opt_in: Mapped[bool] = mapped_column(Boolean, server_default=true())
    email_opt_in: Mapped[bool] = mapped_column(Boolean, server_default=true())
    created_at: Mapped[datetime] = now_column()
