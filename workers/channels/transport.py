"""Maps HTTP outcomes to the send errors, the same way for every provider."""

from typing import Any

import httpx

from workers.channels.base import PermanentSendError, RetryableSendError


async def send(
    client: httpx.AsyncClient,
    provider: str,
    request: httpx.Request,
    *,
    auth: httpx.Auth | None = None,
) -> httpx.Response:
    """Send ``request``, turning failures to reach the provider into retryable errors.

    A URL the client cannot use (``UnsupportedProtocol``) is left to propagate:
    it is a configuration mistake that no retry fixes.
    """
    try:
        return await client.send(request, auth=auth)
    except (httpx.TimeoutException, httpx.NetworkError, httpx.RemoteProtocolError) as error:
        reason = f"{type(error).__name__}: {error}" if str(error) else type(error).__name__
        raise RetryableSendError(f"{provider} request failed: {reason}") from error


def failure(
    provider: str, response: httpx.Response, detail: str | None
) -> RetryableSendError | PermanentSendError:
    """The error for an unsuccessful ``response``; ``detail`` is the provider's own explanation."""
    message = f"{provider} responded {response.status_code}"
    if detail:
        message = f"{message}: {detail}"
    if response.status_code == 429 or response.is_server_error:
        return RetryableSendError(message, retry_after=_retry_after(response))
    return PermanentSendError(message)


def _retry_after(response: httpx.Response) -> int | None:
    # Twilio and SendGrid send delay-seconds; an HTTP date is left to the caller's backoff.
    value = response.headers.get("Retry-After", "").strip()
    return int(value) if value.isascii() and value.isdigit() else None


def json_object(response: httpx.Response) -> dict[str, Any]:
    """The response's JSON object, or an empty one when the body is something else."""
    # A proxy in front of the provider may answer with HTML.
    try:
        data = response.json()
    except ValueError:
        return {}
    return data if isinstance(data, dict) else {}
