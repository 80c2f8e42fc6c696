"""Slot holds and the waitlist: holds, the claims that keep holds and appointments apart,
waitlist entries, and WAITLIST_OFFER messages (about an entry, not an appointment).

``slot_claims`` holds one row per scheduled appointment and per hold, written only by the
triggers below, so that one exclusion constraint sees both tables whoever writes them.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-01 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import postgresql

revision: str = "0006"
down_revision: str | None = "0005"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_KINDS = "'CONFIRMATION', 'REMINDER', 'CANCELLATION', 'RESCHEDULE'"
NEW_KINDS = f"{OLD_KINDS}, 'WAITLIST_OFFER'"

# Claims are inserted speculatively (ON CONFLICT DO NOTHING checks before inserting and
# waits for a racer's claim): a plain insert checks after inserting, so racers could
# each wait for the other until the deadlock detector ended one, a second later. What
# was not inserted is then the same error a plain insert raises.
CLAIMED_ALREADY = """
CREATE FUNCTION slot_claimed_already() RETURNS void LANGUAGE plpgsql AS $$
BEGIN
    RAISE EXCEPTION USING
        ERRCODE = 'exclusion_violation',
        CONSTRAINT = 'ex_slot_claims_doctor_no_overlap',
        TABLE = 'slot_claims',
        MESSAGE = 'conflicting key value violates exclusion constraint '
            || '"ex_slot_claims_doctor_no_overlap"';
END $$
"""
# A scheduled appointment claims its time; any other status claims nothing. (One
# statement per string: asyncpg runs them one at a time.)
APPOINTMENT_CLAIMS = (
    """
CREATE FUNCTION slot_claims_of_appointment() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM slot_claims WHERE appointment_id = OLD.id;
    END IF;
    IF NEW.status = 'SCHEDULED' THEN
        INSERT INTO slot_claims (doctor_id, starts_at, ends_at, appointment_id)
        VALUES (NEW.doctor_id, NEW.starts_at, NEW.ends_at, NEW.id)
        ON CONFLICT DO NOTHING;
        IF NOT FOUND THEN
            PERFORM slot_claimed_already();
        END IF;
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE TRIGGER appointments_claim_on_insert AFTER INSERT ON appointments
    FOR EACH ROW WHEN (NEW.status = 'SCHEDULED')
    EXECUTE FUNCTION slot_claims_of_appointment()
""",
    """
CREATE TRIGGER appointments_claim_on_update
    AFTER UPDATE OF status, doctor_id, starts_at, ends_at ON appointments
    FOR EACH ROW WHEN (
        OLD.status IS DISTINCT FROM NEW.status OR OLD.doctor_id IS DISTINCT FROM NEW.doctor_id
        OR OLD.starts_at IS DISTINCT FROM NEW.starts_at OR OLD.ends_at IS DISTINCT FROM NEW.ends_at
    )
    EXECUTE FUNCTION slot_claims_of_appointment()
""",
)
HOLD_CLAIMS = (
    """
CREATE FUNCTION slot_claims_of_hold() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'UPDATE' THEN
        DELETE FROM slot_claims WHERE hold_id = OLD.id;
    END IF;
    INSERT INTO slot_claims (doctor_id, starts_at, ends_at, hold_id)
    VALUES (NEW.doctor_id, NEW.starts_at, NEW.ends_at, NEW.id)
    ON CONFLICT DO NOTHING;
    IF NOT FOUND THEN
        PERFORM slot_claimed_already();
    END IF;
    RETURN NULL;
END $$
""",
    """
CREATE TRIGGER slot_holds_claim AFTER INSERT OR UPDATE OF doctor_id, starts_at, ends_at
    ON slot_holds FOR EACH ROW EXECUTE FUNCTION slot_claims_of_hold()
""",
)


def _kind_check(values: str, length: int) -> None:
    op.drop_constraint(op.f("ck_notifications_notification_kind"), "notifications", type_="check")
    op.alter_column("notifications", "kind", type_=sa.String(length=length))
    op.create_check_constraint(
        op.f("ck_notifications_notification_kind"), "notifications", f"kind IN ({values})"
    )


def upgrade() -> None:
    op.create_table(
        "waitlist_entries",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("window_from", sa.DateTime(timezone=True), nullable=False),
        sa.Column("window_to", sa.DateTime(timezone=True), nullable=False),
        sa.Column(
            "status",
            sa.Enum(
                "WAITING",
                "OFFERED",
                "BOOKED",
                "EXPIRED",
                "LEFT",
                name="waitlist_status",
                native_enum=False,
                create_constraint=True,
                length=7,
            ),
            server_default="WAITING",
            nullable=False,
        ),
        sa.Column("offered_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_starts_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_ends_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("offer_expires_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("updated_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint(
            "window_to > window_from", name=op.f("ck_waitlist_entries_window_not_empty")
        ),
        sa.CheckConstraint(
            "num_nulls(offered_at, offer_starts_at, offer_ends_at, offer_expires_at) IN (0, 4)",
            name=op.f("ck_waitlist_entries_offer_complete"),
        ),
        sa.CheckConstraint(
            "status NOT IN ('OFFERED', 'BOOKED') OR offered_at IS NOT NULL",
            name=op.f("ck_waitlist_entries_offered_has_offer"),
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_waitlist_entries_appointment_id_appointments"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_waitlist_entries_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id", "clinic_id"],
            ["doctor_clinics.doctor_id", "doctor_clinics.clinic_id"],
            name=op.f("fk_waitlist_entries_doctor_id_clinic_id_doctor_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_waitlist_entries_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_waitlist_entries")),
    )
    op.create_index(
        "ix_waitlist_entries_patient_id_created_at",
        "waitlist_entries",
        ["patient_id", "created_at"],
        unique=False,
    )
    op.create_index(
        "ix_waitlist_entries_waiting",
        "waitlist_entries",
        ["doctor_id", "clinic_id", "created_at"],
        unique=False,
        postgresql_where=sa.text("status = 'WAITING'"),
    )
    op.create_table(
        "slot_holds",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("patient_id", sa.Uuid(), nullable=False),
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("clinic_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("waitlist_entry_id", sa.Uuid(), nullable=True),
        sa.Column("created_by_user_id", sa.Uuid(), nullable=True),
        sa.Column("created_at", sa.DateTime(timezone=True), nullable=False),
        sa.CheckConstraint("ends_at > starts_at", name=op.f("ck_slot_holds_ends_after_start")),
        sa.CheckConstraint(
            "expires_at > created_at", name=op.f("ck_slot_holds_expires_after_creation")
        ),
        sa.ForeignKeyConstraint(
            ["created_by_user_id"],
            ["users.id"],
            name=op.f("fk_slot_holds_created_by_user_id_users"),
            ondelete="SET NULL",
        ),
        sa.ForeignKeyConstraint(
            ["doctor_id", "clinic_id"],
            ["doctor_clinics.doctor_id", "doctor_clinics.clinic_id"],
            name=op.f("fk_slot_holds_doctor_id_clinic_id_doctor_clinics"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["patient_id"],
            ["patients.id"],
            name=op.f("fk_slot_holds_patient_id_patients"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["waitlist_entry_id"],
            ["waitlist_entries.id"],
            name=op.f("fk_slot_holds_waitlist_entry_id_waitlist_entries"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_holds")),
        sa.UniqueConstraint("waitlist_entry_id", name=op.f("uq_slot_holds_waitlist_entry_id")),
    )
    op.create_index(
        "ix_slot_holds_doctor_id_starts_at",
        "slot_holds",
        ["doctor_id", "starts_at"],
        unique=False,
    )
    op.create_index(
        "uq_slot_holds_patient_id",
        "slot_holds",
        ["patient_id"],
        unique=True,
        postgresql_where=sa.text("waitlist_entry_id IS NULL"),
    )
    op.create_table(
        "slot_claims",
        sa.Column("id", sa.BigInteger(), sa.Identity(always=False), nullable=False),
        sa.Column("doctor_id", sa.Uuid(), nullable=False),
        sa.Column("starts_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("ends_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("appointment_id", sa.Uuid(), nullable=True),
        sa.Column("hold_id", sa.Uuid(), nullable=True),
        sa.CheckConstraint(
            "num_nonnulls(appointment_id, hold_id) = 1",
            name=op.f("ck_slot_claims_one_claimant"),
        ),
        postgresql.ExcludeConstraint(
            (sa.column("doctor_id"), "="),
            (sa.text("tstzrange(starts_at, ends_at)"), "&&"),
            using="gist",
            name="ex_slot_claims_doctor_no_overlap",
        ),
        sa.ForeignKeyConstraint(
            ["appointment_id"],
            ["appointments.id"],
            name=op.f("fk_slot_claims_appointment_id_appointments"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["hold_id"],
            ["slot_holds.id"],
            name=op.f("fk_slot_claims_hold_id_slot_holds"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_slot_claims")),
        sa.UniqueConstraint("appointment_id", name=op.f("uq_slot_claims_appointment_id")),
        sa.UniqueConstraint("hold_id", name=op.f("uq_slot_claims_hold_id")),
    )
    op.execute(
        "INSERT INTO slot_claims (doctor_id, starts_at, ends_at, appointment_id) "
        "SELECT doctor_id, starts_at, ends_at, id FROM appointments WHERE status = 'SCHEDULED'"
    )
    for statement in (CLAIMED_ALREADY, *APPOINTMENT_CLAIMS, *HOLD_CLAIMS):
        op.execute(statement)

    _kind_check(NEW_KINDS, 14)
    op.alter_column("notifications", "appointment_id", existing_type=sa.Uuid(), nullable=True)
    op.add_column("notifications", sa.Column("waitlist_entry_id", sa.Uuid(), nullable=True))
    op.create_foreign_key(
        op.f("fk_notifications_waitlist_entry_id_waitlist_entries"),
        "notifications",
        "waitlist_entries",
        ["waitlist_entry_id"],
        ["id"],
        ondelete="CASCADE",
    )
    op.create_unique_constraint(
        op.f("uq_notifications_waitlist_entry_id_kind_channel_scheduled_for"),
        "notifications",
        ["waitlist_entry_id", "kind", "channel", "scheduled_for"],
    )
    op.create_check_constraint(
        op.f("ck_notifications_one_subject"),
        "notifications",
        "num_nonnulls(appointment_id, waitlist_entry_id) = 1",
    )


def downgrade() -> None:
    # Offer messages have no appointment to belong to in the older schema.
    op.execute("DELETE FROM notifications WHERE waitlist_entry_id IS NOT NULL")
    op.drop_constraint(op.f("ck_notifications_one_subject"), "notifications", type_="check")
    op.drop_constraint(
        op.f("uq_notifications_waitlist_entry_id_kind_channel_scheduled_for"),
        "notifications",
        type_="unique",
    )
    op.drop_constraint(
        op.f("fk_notifications_waitlist_entry_id_waitlist_entries"),
        "notifications",
        type_="foreignkey",
    )
    op.drop_column("notifications", "waitlist_entry_id")
    op.alter_column("notifications", "appointment_id", existing_type=sa.Uuid(), nullable=False)
    _kind_check(OLD_KINDS, 12)

    op.execute("DROP TRIGGER slot_holds_claim ON slot_holds")
    op.execute("DROP TRIGGER appointments_claim_on_update ON appointments")
    op.execute("DROP TRIGGER appointments_claim_on_insert ON appointments")
    op.execute("DROP FUNCTION slot_claims_of_hold()")
    op.execute("DROP FUNCTION slot_claims_of_appointment()")
    op.execute("DROP FUNCTION slot_claimed_already()")
    op.drop_table("slot_claims")
    op.drop_index(
        "uq_slot_holds_patient_id",
        table_name="slot_holds",
        postgresql_where=sa.text("waitlist_entry_id IS NULL"),
    )
    op.drop_index("ix_slot_holds_doctor_id_starts_at", table_name="slot_holds")
    op.drop_table("slot_holds")
    op.drop_index(
        "ix_waitlist_entries_waiting",
        table_name="waitlist_entries",
        postgresql_where=sa.text("status = 'WAITING'"),
    )
    op.drop_index("ix_waitlist_entries_patient_id_created_at", table_name="waitlist_entries")
    op.drop_table("waitlist_entries")
