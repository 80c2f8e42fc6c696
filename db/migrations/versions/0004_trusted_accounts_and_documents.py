"""Trusted accounts and documents: verified addresses, one-time secrets for verification
and password resets (hashed), and the declared SHA-256 of a document.

Accounts that exist before this revision start unverified: nobody proved that their
addresses are theirs, so appointment messages wait until they do.

Revision ID: 0004
Revises: 0003
Create Date: 2026-12-02 12:00:00
"""

from collections.abc import Sequence

import sqlalchemy as sa
from alembic import op

revision: str = "0004"
down_revision: str | None = "0003"
branch_labels: str | Sequence[str] | None = None
depends_on: str | Sequence[str] | None = None


def upgrade() -> None:
    op.add_column(
        "users", sa.Column("email_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column(
        "patients", sa.Column("phone_verified_at", sa.DateTime(timezone=True), nullable=True)
    )
    op.add_column("medical_records", sa.Column("sha256", sa.String(length=64), nullable=True))
    op.create_check_constraint(
        op.f("ck_medical_records_sha256_hex"), "medical_records", "sha256 ~ '^[0-9a-f]{64}$'"
    )
    op.create_table(
        "account_tokens",
        sa.Column("id", sa.Uuid(), nullable=False),
        sa.Column("user_id", sa.Uuid(), nullable=False),
        sa.Column(
            "purpose",
            sa.Enum(
                "EMAIL_VERIFICATION",
                "PHONE_VERIFICATION",
                "PASSWORD_RESET",
                name="account_token_purpose",
                native_enum=False,
                create_constraint=True,
                length=18,
            ),
            nullable=False,
        ),
        sa.Column("secret_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column("destination_hash", sa.LargeBinary(length=32), nullable=False),
        sa.Column(
            "created_at",
            sa.DateTime(timezone=True),
            server_default=sa.text("now()"),
            nullable=False,
        ),
        sa.Column("expires_at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("used_at", sa.DateTime(timezone=True), nullable=True),
        sa.Column(
            "failed_attempts", sa.SmallInteger(), server_default=sa.text("0"), nullable=False
        ),
        sa.ForeignKeyConstraint(
            ["user_id"],
            ["users.id"],
            name=op.f("fk_account_tokens_user_id_users"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_account_tokens")),
        sa.UniqueConstraint("secret_hash", name=op.f("uq_account_tokens_secret_hash")),
    )
    op.create_index(
        "ix_account_tokens_user_id_purpose",
        "account_tokens",
        ["user_id", "purpose"],
        unique=False,
        postgresql_where=sa.text("used_at IS NULL"),
    )


def downgrade() -> None:
    op.drop_index(
        "ix_account_tokens_user_id_purpose",
        table_name="account_tokens",
        postgresql_where=sa.text("used_at IS NULL"),
    )
    op.drop_table("account_tokens")
    op.drop_constraint(op.f("ck_medical_records_sha256_hex"), "medical_records", type_="check")
    op.drop_column("medical_records", "sha256")
    op.drop_column("patients", "phone_verified_at")
    op.drop_column("users", "email_verified_at")
