import uuid
from datetime import datetime

from sqlalchemy import DateTime, ForeignKey, Index, LargeBinary, SmallInteger, text
from sqlalchemy.orm import Mapped, mapped_column

from db.base import Base, now_column, text_enum, uuid_pk
from db.enums import AccountTokenPurpose


class AccountToken(Base):
    """A one-time secret e-mailed or texted to a user: a verification link, a phone code,
    a password-reset link. Only its SHA-256 is kept, so a leaked table opens nothing."""

    __tablename__ = "account_tokens"
    __table_args__ = (
        # A user's live secrets of one purpose: the phone code is found this way.
        Index(
            "ix_account_tokens_user_id_purpose",
            "user_id",
            "purpose",
            postgresql_where=text("used_at IS NULL"),
        ),
    )

    id: Mapped[uuid.UUID] = uuid_pk()
    user_id: Mapped[uuid.UUID] = mapped_column(ForeignKey("users.id", ondelete="CASCADE"))
    purpose: Mapped[AccountTokenPurpose] = mapped_column(
        text_enum(AccountTokenPurpose, "account_token_purpose")
    )
    # SHA-256 of the secret (a phone code with the row's id before it: 6 digits alone
    # would make equal hashes).
    secret_hash: Mapped[bytes] = mapped_column(LargeBinary(32), unique=True)
    # SHA-256 of the address it went to: a link proves only the address it was sent to.
    destination_hash: Mapped[bytes] = mapped_column(LargeBinary(32))
    created_at: Mapped[datetime] = now_column()
    expires_at: Mapped[datetime] = mapped_column(DateTime(timezone=True))
    used_at: Mapped[datetime | None] = mapped_column(DateTime(timezone=True))
    # Wrong phone codes typed against this one; a few and it is used up.
    failed_attempts: Mapped[int] = mapped_column(SmallInteger, server_default=text("0"))
