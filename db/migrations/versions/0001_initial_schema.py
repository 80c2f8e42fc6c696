"""Initial schema: the whole data model and the invariants PostgreSQL keeps.

Revision ID: 0001
Revises:
Create Date: 2026-11-28 20:46:58.032948
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0001"
down_revision: str | None = None
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


# The application's role may append to the audit log, never rewrite it.
AUDIT_REFUSE_CHANGE = """
CREATE FUNCTION audit_log_refuse_change() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION 'audit_log is append-only: % refused', TG_OP
        USING ERRCODE = 'insufficient_privilege';
END
$$
"""
AUDIT_APPEND_ONLY = """
CREATE TRIGGER audit_log_append_only
    BEFORE UPDATE OR DELETE ON audit_log
    FOR EACH ROW EXECUTE FUNCTION audit_log_refuse_change()
"""


def upgrade() -> None:
    # Exclusion constraints mixing = on uuid with && on ranges need btree_gist.
    op.execute("CREATE EXTENSION IF NOT EXISTS btree_gist")
    op.create_table(
        "audit_log",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column(
            "at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("actor_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "actor_role",
            sa.Enum(
                "ADMIN",
                "DOCTOR",
                "PATIENT",
                name="audit_actor_role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=True,
        ),
        sa.Column("action", sa.String(length=64), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=True),
        sa.Column("resource_type", sa.String(length=64), nullable=True),
        sa.Column("resource_id", sa.String(length=128), nullable=True),
        sa.Column(
            "outcome",
            sa.Enum(
                "ALLOWED",
                "DENIED",
                "FAILED",
                name="audit_outcome",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("ip", postgresql.INET(), nullable=True),
        sa.Column("request_id", sa.String(length=64), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_audit_log")),
    )
    op.create_index(
        "ix_audit_log_actor_at", "audit_log", ["actor_user_id", "at"], unique=False
    )
    op.create_index(
        "ix_audit_log_patient_at",
        "audit_log",
        ["patient_id", sa.literal_column("at DESC"), sa.literal_column("id DESC")],
        unique=False,
        postgresql_where=sa.text("patient_id IS NOT NULL"),
    )
    op.execute(AUDIT_REFUSE_CHANGE)
    op.execute(AUDIT_APPEND_ONLY)
    op.create_table(
        "clinics",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("address", sa.Text(), nullable=True),
        sa.Column("timezone", sa.String(length=64), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "length(timezone) > 0", name=op.f("ck_clinics_timezone_not_blank")
        ),
        sa.CheckConstraint(
            "length(trim(name)) > 0", name=op.f("ck_clinics_name_not_blank")
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_clinics")),
    )
    op.create_table(
        "outbox",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("topic", sa.String(length=64), nullable=False),
        sa.Column("payload", postgresql.JSONB(astext_type=sa.Text()), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "available_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("published_at", sa.DateTime(timezone=True), nullable=True),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_outbox")),
    )
    op.create_index(
        "ix_outbox_unpublished",
        "outbox",
        ["available_at", "id"],
        unique=False,
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.create_table(
        "users",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("email", sa.String(length=320), nullable=False),
        sa.Column("password_hash", sa.String(length=255), nullable=False),
        sa.Column(
            "role",
            sa.Enum(
                "ADMIN",
                "DOCTOR",
                "PATIENT",
                name="role",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "is_active", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_users")),
    )
    op.create_index(
        "uq_users_email_lower",
        "users",
        [sa.literal_column("lower(email)")],
        unique=True,
    )
    op.create_table(
        "doctors",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("specialty", sa.String(length=100), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "length(trim(name)) > 0", name=op.f("ck_doctors_name_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_doctors_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_doctors")),
        sa.UniqueConstraint("user_id", name=op.f("uq_doctors_user_id")),
    )
    op.create_index(
        "ix_doctors_created_at_id", "doctors", ["created_at", "id"], unique=False
    )
    op.create_index(
        "ix_doctors_specialty_created_at_id",
        "doctors",
        ["specialty", "created_at", "id"],
        unique=False,
    )
    op.create_table(
        "patients",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column("name", sa.String(length=200), nullable=False),
        sa.Column("date_of_birth", sa.Date(), nullable=True),
        sa.Column("phone", sa.String(length=32), nullable=True),
        sa.Column(
            "sms_opt_in", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column(
            "email_opt_in", sa.Boolean(), server_default=sa.text("true"), nullable=False
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "length(trim(name)) > 0", name=op.f("ck_patients_name_not_blank")
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_patients_user_id_users"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_patients")),
        sa.UniqueConstraint("user_id", name=op.f("uq_patients_user_id")),
    )
    op.create_index(
        "ix_patients_created_at_id", "patients", ["created_at", "id"], unique=False
    )
    op.create_table(
        "refresh_token_families",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("revoked_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("revoked_reason", sa.String(length=64), nullable=True),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_refresh_token_families_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_token_families")),
    )
    op.create_index(
        "ix_refresh_token_families_user_id",
        "refresh_token_families",
        ["user_id"],
        unique=False,
    )
    op.create_table(
        "doctor_clinics",
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_doctor_clinics_clinic_id_clinics"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name=op.f("fk_doctor_clinics_doctor_id_doctors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint(
            "doctor_id", "clinic_id", name=op.f("pk_doctor_clinics")
        ),
    )
    op.create_index(
        "ix_doctor_clinics_clinic_id", "doctor_clinics", ["clinic_id"], unique=False
    )
    op.create_table(
        "medical_records",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("doctor_id", sa.Uuid(), nullable=True),
        sa.Column("uploaded_by_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "record_type",
            sa.Enum(
                "PRESCRIPTION",
                "LAB_REPORT",
                "IMAGING",
                "VISIT_NOTE",
                "OTHER",
                name="record_type",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("title", sa.String(length=300), nullable=False),
        sa.Column("file_name", sa.String(length=255), nullable=False),
        sa.Column("content_type", sa.String(length=127), nullable=False),
        sa.Column("size_bytes", sa.BigInteger(), nullable=False),
        sa.Column("s3_key", sa.String(length=512), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "AVAILABLE",
                name="record_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("uploaded_at", sa.DateTime(timezone=True), nullable=True),
        sa.CheckConstraint(
            "(status = 'AVAILABLE') = (uploaded_at IS NOT NULL)",
            name=op.f("ck_medical_records_uploaded_at_iff_available"),
        ),
        sa.CheckConstraint(
            "size_bytes > 0", name=op.f("ck_medical_records_size_positive")
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name=op.f("fk_medical_records_doctor_id_doctors"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_medical_records_patient_id_patients"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["uploaded_by_user_id"],
            ["users.id"],
            name=op.f("fk_medical_records_uploaded_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_medical_records")),
        sa.UniqueConstraint("s3_key", name=op.f("uq_medical_records_s3_key")),
    )
    op.create_index(
        "ix_medical_records_patient_uploaded_at",
        "medical_records",
        [
            "patient_id",
            sa.literal_column("uploaded_at DESC"),
            sa.literal_column("id DESC"),
        ],
        unique=False,
        postgresql_where=sa.text("status = 'AVAILABLE'"),
    )
    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("family_id", sa.Uuid(), nullable=False),
        sa.Column("token_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "issued_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("rotated_at", sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(
            ["family_id"],
            ["refresh_token_families.id"],
            name=op.f("fk_refresh_tokens_family_id_refresh_token_families"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    op.create_index(
        "ix_refresh_tokens_family_id", "refresh_tokens", ["family_id"], unique=False
    )
    op.create_table(
        "schedule_exceptions",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_schedule_exceptions_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id"],
            ["doctors.id"],
            name=op.f("fk_schedule_exceptions_doctor_id_doctors"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_exceptions")),
    )
    op.create_index(
        "ix_schedule_exceptions_doctor_period",
        "schedule_exceptions",
        ["doctor_id", sa.literal_column("tstzrange(starts_at, ends_at)")],
        unique=False,
        postgresql_using="gist",
    )
    op.create_table(
        "appointments",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "SCHEDULED",
                "COMPLETED",
                "CANCELLED",
                "NO_SHOW",
                name="appointment_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="SCHEDULED",
            nullable=False,
        ),
        sa.Column("reason", sa.Text(), nullable=True),
        sa.Column("cancellation_reason", sa.Text(), nullable=True),
        sa.Column("cancelled_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("idempotency_key", sa.String(length=128), nullable=True),
        sa.Column("booked_by_user_id", sa.Uuid(), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column(
            "updated_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        postgresql.ExcludeConstraint(
            (sa.column("doctor_id"), "="),
            (sa.text("tstzrange(starts_at, ends_at)"), "&&"),
            where=sa.text("status = 'SCHEDULED'"),
            using="gist",
            name="ex_appointments_doctor_no_overlap",
        ),
        postgresql.ExcludeConstraint(
            (sa.column("patient_id"), "="),
            (sa.text("tstzrange(starts_at, ends_at)"), "&&"),
            where=sa.text("status = 'SCHEDULED'"),
            using="gist",
            name="ex_appointments_patient_no_overlap",
        ),
        sa.CheckConstraint(
            "(status = 'CANCELLED') = (cancelled_at IS NOT NULL)",
            name=op.f("ck_appointments_cancelled_at_iff_cancelled"),
        ),
        sa.CheckConstraint(
            "ends_at > starts_at", name=op.f("ck_appointments_ends_after_start")
        ),
        sa.ForeignKeyConstraint(
            ["booked_by_user_id"],
            ["users.id"],
            name=op.f("fk_appointments_booked_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["clinic_id"],
            ["clinics.id"],
            name=op.f("fk_appointments_clinic_id_clinics"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id", "clinic_id"],
            ["doctor_clinics.doctor_id", "doctor_clinics.clinic_id"],
            name=op.f("fk_appointments_doctor_id_clinic_id_doctor_clinics"),
            ondelete="RESTRICT",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_appointments_patient_id_patients"),
            ondelete="RESTRICT",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_appointments")),
    )
    op.create_index(
        "ix_appointments_doctor_starts_at",
        "appointments",
        ["doctor_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "ix_appointments_patient_starts_at",
        "appointments",
        ["patient_id", sa.literal_column("starts_at DESC"), "id"],
        unique=False,
    )
    op.create_index(
        "ix_appointments_scheduled_starts_at",
        "appointments",
        ["starts_at"],
        unique=False,
        postgresql_where=sa.text("status = 'SCHEDULED'"),
    )
    op.create_index(
        "uq_appointments_idempotency",
        "appointments",
        ["booked_by_user_id", "idempotency_key"],
        unique=True,
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.create_table(
        "schedule_templates",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("day_of_week", sa.SmallInteger(), nullable=False),
        sa.Column("start_time", sa.Time(), nullable=False),
        sa.Column("end_time", sa.Time(), nullable=False),
        sa.Column(
            "slot_minutes",
            sa.SmallInteger(),
            server_default=sa.text("30"),
            nullable=False,
        ),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        postgresql.ExcludeConstraint(
            (sa.column("doctor_id"), "="),
            (sa.column("day_of_week"), "="),
            (
                sa.text(
                    "tsrange(DATE '2000-01-01' + start_time, DATE '2000-01-01' + end_time)"
                ),
                "&&",
            ),
            using="gist",
            name="ex_schedule_templates_no_overlap",
        ),
        sa.CheckConstraint(
            "day_of_week BETWEEN 1 AND 7",
            name=op.f("ck_schedule_templates_iso_day_of_week"),
        ),
        sa.CheckConstraint(
            "end_time > start_time", name=op.f("ck_schedule_templates_ends_after_start")
        ),
        sa.CheckConstraint(
            "slot_minutes BETWEEN 5 AND 240",
            name=op.f("ck_schedule_templates_slot_minutes_range"),
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id", "clinic_id"],
            ["doctor_clinics.doctor_id", "doctor_clinics.clinic_id"],
            name=op.f("fk_schedule_templates_doctor_id_clinic_id_doctor_clinics"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_schedule_templates")),
    )
    op.create_index(
        "ix_schedule_templates_doctor_clinic_day",
        "schedule_templates",
        ["doctor_id", "clinic_id", "day_of_week"],
        unique=False,
    )
    op.create_table(
        "notifications",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=False),
        sa.Column(
            "kind",
            sa.Enum(
                "CONFIRMATION",
                "REMINDER",
                "CANCELLATION",
                "RESCHEDULE",
                name="notification_kind",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column(
            "channel",
            sa.Enum(
                "SMS",
                "EMAIL",
                name="notification_channel",
                native_enum=False,
                create_constraint=True,
            ),
            nullable=False,
        ),
        sa.Column("scheduled_for", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "PENDING",
                "SENT",
                "SKIPPED",
                "FAILED",
                "DEAD",
                name="notification_status",
                native_enum=False,
                create_constraint=True,
            ),
            server_default="PENDING",
            nullable=False,
        ),
        sa.Column(
            "attempts", sa.Integer(), server_default=sa.text("0"), nullable=False
        ),
        sa.Column("provider_message_id", sa.String(length=128), nullable=True),
        sa.Column("last_error", sa.Text(), nullable=True),
        sa.Column("sent_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.CheckConstraint(
            "attempts >= 0", name=op.f("ck_notifications_attempts_not_negative")
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_notifications_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_notifications")),
        sa.UniqueConstraint(
            "appointment_id",
            "kind",
            "channel",
            "scheduled_for",
            name=op.f("uq_notifications_appointment_id_kind_channel_scheduled_for"),
        ),
    )
    op.create_index(
        "ix_notifications_pending_scheduled_for",
        "notifications",
        ["scheduled_for"],
        unique=False,
        postgresql_where=sa.text("status = 'PENDING'"),
    )


def downgrade() -> None:
    op.execute("DROP TRIGGER audit_log_append_only ON audit_log")
    op.execute("DROP FUNCTION audit_log_refuse_change()")
    op.drop_index(
        "ix_notifications_pending_scheduled_for",
        table_name="notifications",
        postgresql_where=sa.text("status = 'PENDING'"),
    )
    op.drop_table("notifications")
    op.drop_index(
        "ix_schedule_templates_doctor_clinic_day", table_name="schedule_templates"
    )
    op.drop_table("schedule_templates")
    op.drop_index(
        "uq_appointments_idempotency",
        table_name="appointments",
        postgresql_where=sa.text("idempotency_key IS NOT NULL"),
    )
    op.drop_index(
        "ix_appointments_scheduled_starts_at",
        table_name="appointments",
        postgresql_where=sa.text("status = 'SCHEDULED'"),
    )
    op.drop_index("ix_appointments_patient_starts_at", table_name="appointments")
    op.drop_index("ix_appointments_doctor_starts_at", table_name="appointments")
    op.drop_table("appointments")
    op.drop_index(
        "ix_schedule_exceptions_doctor_period",
        table_name="schedule_exceptions",
        postgresql_using="gist",
    )
    op.drop_table("schedule_exceptions")
    op.drop_index("ix_refresh_tokens_family_id", table_name="refresh_tokens")
    op.drop_table("refresh_tokens")
    op.drop_index(
        "ix_medical_records_patient_uploaded_at",
        table_name="medical_records",
        postgresql_where=sa.text("status = 'AVAILABLE'"),
    )
    op.drop_table("medical_records")
    op.drop_index("ix_doctor_clinics_clinic_id", table_name="doctor_clinics")
    op.drop_table("doctor_clinics")
    op.drop_index(
        "ix_refresh_token_families_user_id", table_name="refresh_token_families"
    )
    op.drop_table("refresh_token_families")
    op.drop_index("ix_patients_created_at_id", table_name="patients")
    op.drop_table("patients")
    op.drop_index("ix_doctors_specialty_created_at_id", table_name="doctors")
    op.drop_index("ix_doctors_created_at_id", table_name="doctors")
    op.drop_table("doctors")
    op.drop_index("uq_users_email_lower", table_name="users")
    op.drop_table("users")
    op.drop_index(
        "ix_outbox_unpublished",
        table_name="outbox",
        postgresql_where=sa.text("published_at IS NULL"),
    )
    op.drop_table("outbox")
    op.drop_table("clinics")
    op.drop_index(
        "ix_audit_log_patient_at",
        table_name="audit_log",
        postgresql_where=sa.text("patient_id IS NOT NULL"),
    )
    op.drop_index("ix_audit_log_actor_at", table_name="audit_log")
    op.drop_table("audit_log")
