"""A stand-in channel for a provider that is not configured, as in development."""

import logging
from uuid import uuid4

from workers.channels.base import Delivery

logger = logging.getLogger(__name__)


class LogChannel:
    def __init__(self, name: str) -> None:
        self._name = name

    async def send(self, *, to: str, subject: str, body: str) -> Delivery:
        delivery = Delivery(provider_message_id=f"log-{uuid4()}")
        # Messages concern patients' health: log neither the full recipient nor the body.
        logger.info(
            "%s not configured; not sending %s to %s (subject %r, %d characters)",
            self._name,
            delivery.provider_message_id,
            mask_recipient(to),
            subject,
            len(body),
        )
        return delivery


def mask_recipient(to: str) -> str:
    """``+1415***0123`` for a phone number, ``j***@example.com`` for an e-mail address."""
    local, at, domain = to.partition("@")
    if at:
        return f"{local[:1]}***@{domain}"
    # Too short to keep a prefix and a suffix while still hiding some digits.
    if len(to) < 10:
        return "***"
    return f"{to[:5]}***{to[-4:]}"
