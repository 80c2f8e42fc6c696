"""Notification claims: a SENDING status with a lease, and the time of the next retry.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-30 23:50:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0002"
down_revision: str | None = "0001"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

OLD_STATUSES = "'PENDING', 'SENT', 'SKIPPED', 'FAILED', 'DEAD'"
NEW_STATUSES = "'PENDING', 'SENDING', 'SENT', 'SKIPPED', 'FAILED', 'DEAD'"


def _status_check(values: str) -> None:
    op.drop_constraint(op.f("ck_notifications_notification_status"), "notifications", type_="check")
    op.create_check_constraint(
        op.f("ck_notifications_notification_status"), "notifications", f"status IN ({values})"
    )


def upgrade() -> None:
    _status_check(NEW_STATUSES)
    op.add_column(
        "notifications", sa.Column("claim_expires_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "notifications", sa.Column("next_attempt_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.create_check_constraint(
        op.f("ck_notifications_claim_only_while_sending"),
        "notifications",
        "(status = 'SENDING') = (claim_expires_at IS NOT NULL)",
    )
    op.create_index(
        "ix_notifications_sending_claim_expires_at",
        "notifications",
        ["claim_expires_at"],
        unique=False,
        postgresql_where=sa.text("status = 'SENDING'"),
    )


def downgrade() -> None:
    # A message caught mid-send goes back to PENDING: at worst sent twice, never lost.
    op.execute(
        "UPDATE notifications SET status = 'PENDING', claim_expires_at = NULL "
        "WHERE status = 'SENDING'"
    )
    op.drop_index(
        "ix_notifications_sending_claim_expires_at",
        table_name="notifications",
        postgresql_where=sa.text("status = 'SENDING'"),
    )
    op.drop_constraint(
        op.f("ck_notifications_claim_only_while_sending"), "notifications", type_="check"
    )
    op.drop_column("notifications", "next_attempt_at")
    op.drop_column("notifications", "claim_expires_at")
    _status_check(OLD_STATUSES)
