"""What every channel promises, and the two ways a send can fail."""

from dataclasses import dataclass
from typing import Protocol


@dataclass(frozen=True)
class Delivery:
    provider_message_id: str


class RetryableSendError(Exception):
    """The provider may accept the same message later: timeouts, network errors, 5xx, 429."""

    def __init__(self, message: str, *, retry_after: int | None = None) -> None:
        super().__init__(message)
        # Seconds the provider asked us to wait (Retry-After), when it said.
        self.retry_after = retry_after


class PermanentSendError(Exception):
    """Sending this message again cannot succeed: bad credentials, an invalid recipient."""


class Channel(Protocol):
    async def send(self, *, to: str, subject: str, body: str) -> Delivery:
        """Hand the message to the provider; ``subject`` is ignored by SMS."""
        ...
