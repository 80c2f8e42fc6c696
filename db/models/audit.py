import uuid
from datetime import datetime

from sqlalchemy import BigInteger, DateTime, Identity, Index, String, func, text
from sqlalchemy.dialects.postgresql import INET
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, text_enum
from db.enums import AuditOutcome, Role


class AuditEntry(Base):
    """Who touched which patient's data, when and with what outcome. Append-only:
    a trigger from the first migration refuses UPDATE and DELETE."""

    __tablename__ = "audit_log"
    __table_args__ = (
        Index(
            "ix_audit_log_patient_at",
            "patient_id",
            text("at DESC"),
            text("id DESC"),
            postgresql_where=text("patient_id IS NOT NULL"),
        ),
        Index("ix_audit_log_actor_at", "actor_user_id", "at"),
    )

    id: Mapped[int] = mapped_column(BigInteger, Identity(), primary_key=True)
    at: Mapped[datetime] = mapped_column(DateTime(timezone=True), server_default=func.now())
    # No foreign keys: the trail must outlive the rows it talks about.
    actor_user_id: Mapped[uuid.UUID | None]
    actor_role: Mapped[Role | None] = mapped_column(text_enum(Role, "audit_actor_role"))
    action: Mapped[str] = mapped_column(String(64))
    patient_id: Mapped[uuid.UUID | None]
    resource_type: Mapped[str | None] = mapped_column(String(64))
    resource_id: Mapped[str | None] = mapped_column(String(128))
    outcome: Mapped[AuditOutcome] = mapped_column(text_enum(AuditOutcome, "audit_outcome"))
    ip: Mapped[str | None] = mapped_column(INET)
    # As long as an X-Request-ID the API keeps (medappt/http/response_headers.py).
    request_id: Mapped[str | None] = mapped_column(String(128))
