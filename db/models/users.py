import uuid
from datetime import datetime

from sqlalchemy import Boolean, DateTime, Index, String, text, true
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, now_column, text_enum, uuid_pk
from db.enums import Role


class User(Base):
    __tablename__ = "users"
    __table_args__ = (
        # Logins match e-mail case-insensitively, so uniqueness must too.
        Index("uq_users_email_lower", text("lower(email)"), unique=True),
        # myPatients finds any part of an address, in any case (pg_trgm).
        Index(
            "ix_users_email_trgm",
            "email",
            postgresql_using="gin",
            postgresql_ops={"email": "gin_trgm_ops"},
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    email: Mapped[str] = mapped_column(String(320))
    password_hash: Mapped[str] = mapped_column(String(255))
    role: Mapped[Role] = mapped_column(text_enum(Role, "role"))
    is_active: Mapped[bool] = mapped_column(Boolean, server_default=true())
    # When the owner followed a link sent to this address; a new address starts unverified.
    email_verified_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    created_at: Mapped[datetime] = now_column()
