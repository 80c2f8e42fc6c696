"""The audit trail keeps the whole X-Request-ID a client may send (128 characters), not 64:
a longer one made the request's audit INSERT fail, and the request with it.

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-01 22:20:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0007"
down_revision: str | None = "0006"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    # Widening a varchar changes only the catalog: no rewrite, no long lock.
    op.alter_column(
        "audit_log", "request_id", type_=sa.String(length=128), existing_type=sa.String(length=64)
    )


def downgrade() -> None:
    op.alter_column(
        "audit_log", "request_id", type_=sa.String(length=64), existing_type=sa.String(length=128)
    )
