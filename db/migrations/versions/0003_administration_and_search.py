"""Administration and search: inactive doctors, a clinic's cancellation cutoff, and
trigram indexes so a doctor finds a patient by any part of a name or e-mail address.

Revision ID: 0003
Revises: 0002
Create Date: 2026-12-02 10:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0003"
down_revision: str | None = "0002"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None

TRIGRAM_INDEXES = (
    ("ix_patients_name_trgm", "patients", "name"),
    ("ix_users_email_trgm", "users", "email"),
)


def upgrade() -> None:
    # A trusted extension since PostgreSQL 13: a database owner may create it.
    op.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    op.add_column(
        "doctors", sa.Column("active", sa.Boolean(), server_default=sa.true(), nullable=False)
    )
    op.add_column(
        "clinics",
        sa.Column(
            "cancellation_cutoff_hours",
            sa.SmallInteger(),
            server_default=sa.text("0"),
            nullable=False,
        ),
    )
    op.create_check_constraint(
        op.f("ck_clinics_cancellation_cutoff_range"),
        "clinics",
        "cancellation_cutoff_hours BETWEEN 0 AND 720",
    )
    for name, table, column in TRIGRAM_INDEXES:
        op.create_index(
            name,
            table,
            [column],
            unique=False,
            postgresql_using="gin",
            postgresql_ops={column: "gin_trgm_ops"},
        )


def downgrade() -> None:
    for name, table, _ in TRIGRAM_INDEXES:
        op.drop_index(name, table_name=table, postgresql_using="gin")
    op.drop_constraint(op.f("ck_clinics_cancellation_cutoff_range"), "clinics", type_="check")
    op.drop_column("clinics", "cancellation_cutoff_hours")
    op.drop_column("doctors", "active")
    op.execute("DROP EXTENSION IF EXISTS pg_trgm")
