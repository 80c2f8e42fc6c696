import uuid
from datetime import datetime

from sqlalchemy import BigInteger, CheckConstraint, DateTime, ForeignKey, Index, String, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, now_column, text_enum, uuid_pk
from db.enums import RecordStatus, RecordType


class MedicalRecord(Base):
    """A document in S3 about one patient; listed once its upload is confirmed."""

    __tablename__ = "medical_records"
    __table_args__ = (
        CheckConstraint("size_bytes > 0", name="size_positive"),
        CheckConstraint("sha256 ~ '^[0-9a-f]{64}$'", name="sha256_hex"),
        CheckConstraint(
            "(status = 'AVAILABLE') = (uploaded_at IS NOT NULL)", name="uploaded_at_iff_available"
        ),
        # Patient.records: newest first, keyset on (uploaded_at, id), available only.
        Index(
            "ix_medical_records_patient_uploaded_at",
            "patient_id",
            text("uploaded_at DESC"),
            text("id DESC"),
            postgresql_where=text("status = 'AVAILABLE'"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    patient_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("patients.id", ondelete="RESTRICT"))
    # The doctor the record is from, when a doctor uploaded it or it names one.
    doctor_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("doctors.id", ondelete="SET NULL")
    )
    uploaded_by_user_id: Mapped[uuid.UUID | None] = mapped_column(
        ForeignKey("users.id", ondelete="SET NULL")
    )
    record_type: Mapped[RecordType] = mapped_column(text_enum(RecordType, "record_type"))
    title: Mapped[str] = mapped_column(String(300))
    file_name: Mapped[str] = mapped_column(String(255))
    content_type: Mapped[str] = mapped_column(String(127))
    size_bytes: Mapped[int] = mapped_column(BigInteger)
    # The document's final key, written only by the server's copy from the staging key.
    s3_key: Mapped[str] = mapped_column(String(512), unique=True)
    # Lowercase hex SHA-256 the uploader declared; the stored bytes were checked against it.
    sha256: Mapped[str | None] = mapped_column(String(64))
    status: Mapped[RecordStatus] = mapped_column(
        text_enum(RecordStatus, "record_status"), server_default=RecordStatus.PENDING.value
    )
    created_at: Mapped[datetime] = now_column()
    uploaded_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
