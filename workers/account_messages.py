"""arq jobs that send account messages: an e-mail verification link, a phone code, a
password-reset link. These go to addresses not yet verified: that is their point.

The job makes the one-time secret and commits its hash, then sends it: in clear, the
secret exists only in this job's memory and in the message, never in a queue or a
log. A send that fails for a while is retried with a new secret (which retires the
one that did not go out); the budgets were spent when the API accepted the request.
"""

import asyncio
import logging
import uuid
from datetime import timedelta
from typing import Any
from urllib.parse import urlencode

from arq import Retry
from sqlalchemy import select

from db.enums import AccountTokenPurpose, NotificationChannel
from db.models import Patient, User
from domain.auth.account_tokens import LIFETIMES, mint_link_token, mint_phone_code
from services.settings import Settings
from workers.channels.base import PermanentSendError, RetryableSendError
from workers.delivery import backoff_seconds

logger = logging.getLogger("medappt.account_messages")

SKIPPED, SENT, FAILED = "SKIPPED", "SENT", "FAILED"


def _lifetime(purpose: AccountTokenPurpose) -> str:
    minutes = int(LIFETIMES[purpose] / timedelta(minutes=1))
    return f"{minutes // 60} hours" if minutes % 60 == 0 else f"{minutes} minutes"


def verification_email(link: str) -> tuple[str, str]:
    return (
        "Confirm your e-mail address",
        f"Open this link to confirm that this address is yours:\n\n{link}\n\n"
        f"It works once, within "
        f"{_lifetime(AccountTokenPurpose.EMAIL_VERIFICATION)}. "
        "If you did not sign up, ignore this message.",
    )


def reset_email(link: str) -> tuple[str, str]:
    return (
        "Reset your password",
        f"Open this link to choose a new password:\n\n{link}\n\n"
        f"It works once, within {_lifetime(AccountTokenPurpose.PASSWORD_RESET)}. "
        "If you did not ask for this, ignore this message: your password stays as it is.",
    )


def phone_code_text(code: str) -> str:
    # The code must be the only run of six digits in the message.
    return (
        f"Your medappt verification code is {code}. "
        f"It expires in {_lifetime(AccountTokenPurpose.PHONE_VERIFICATION)}."
    )


def _link(settings: Settings, path: str, token: str) -> str:
    return f"{settings.public_url}/{path}?{urlencode({'token': token})}"


async def email_verification_requested(ctx: dict[str, Any], payload: dict[str, Any]) -> str:
    async with ctx["sessions"].begin() as session:
        user = await session.get(User, uuid.UUID(payload["user_id"]))
        if user is None or not user.is_active or user.email_verified_at is not None:
            return SKIPPED
        token = await mint_link_token(
            session, user.id, AccountTokenPurpose.EMAIL_VERIFICATION, user.email
        )
        to = user.email
    subject, body = verification_email(_link(ctx["settings"], "verify-email", token))
    return await _send(
        ctx, NotificationChannel.EMAIL, to=to, subject=subject, body=body, what="email verification"
    )


async def phone_verification_requested(ctx: dict[str, Any], payload: dict[str, Any]) -> str:
    async with ctx["sessions"].begin() as session:
        row = (
            await session.execute(
                select(Patient, User.is_active)
                .join(User, User.id == Patient.user_id)
                .where(Patient.user_id == uuid.UUID(payload["user_id"]))
            )
        ).one_or_none()
        if row is None:
            return SKIPPED
        patient, active = row
        if not active or patient.phone is None or patient.phone_verified_at is not None:
            return SKIPPED
        code = await mint_phone_code(session, patient.user_id, patient.phone)
        to = patient.phone
    return await _send(
        ctx,
        NotificationChannel.SMS,
        to=to,
        subject="",
        body=phone_code_text(code),
        what="phone code",
    )


async def password_reset_requested(ctx: dict[str, Any], payload: dict[str, Any]) -> str:
    if payload["user_id"] is None:
        return SKIPPED  # nobody has the address that was asked about
    async with ctx["sessions"].begin() as session:
        user = await session.get(User, uuid.UUID(payload["user_id"]))
        if user is None or not user.is_active:
            return SKIPPED
        token = await mint_link_token(
            session, user.id, AccountTokenPurpose.PASSWORD_RESET, user.email
        )
        to = user.email
    subject, body = reset_email(_link(ctx["settings"], "reset-password", token))
    return await _send(
        ctx, NotificationChannel.EMAIL, to=to, subject=subject, body=body, what="password reset"
    )


async def _send(
    ctx: dict[str, Any],
    channel: NotificationChannel,
    *,
    to: str,
    subject: str,
    body: str,
    what: str,
) -> str:
    """Send now; retry a passing failure with backoff, give up on a lasting one. Logs
    say what and how, never to whom nor the secret."""
    settings: Settings = ctx["settings"]
    attempt: int = ctx.get("job_try", 1)
    try:
        async with asyncio.timeout(settings.notify_provider_timeout_seconds):
            await ctx["account_channels"][channel].send(to=to, subject=subject, body=body)
    except (RetryableSendError, TimeoutError) as error:
        if attempt >= settings.notify_max_attempts:
            logger.warning("%s not sent after %d attempts: %s", what, attempt, type(error).__name__)
            return FAILED
        raise Retry(defer=backoff_seconds(attempt, settings.notify_retry_base_seconds)) from error
    except PermanentSendError:
        # The provider's words may quote the address: the log gets none of them.
        logger.warning("%s refused by the provider", what)
        return FAILED
    logger.info("%s sent by %s", what, channel.value)
    return SENT
