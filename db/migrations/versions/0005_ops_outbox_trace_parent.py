"""The outbox row keeps the trace of the request that wrote it, for the job to continue.

Revision ID: 0005
Revises: 0004
Create Date: 2026-12-01 03:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0005"
down_revision: str | None = "0004"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column("outbox", sa.Column("trace_parent", sa.String(length=55), nullable=True))


def downgrade() -> None:
    op.drop_column("outbox", "trace_parent")
