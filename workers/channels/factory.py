"""Builds the worker's channels from its settings."""

import httpx

from services.settings import Settings
from workers.channels.base import Channel
from workers.channels.log import LogChannel
from workers.channels.sendgrid import SendGridEmail
from workers.channels.twilio import TwilioSms


def http_client(timeout_seconds: float = 30.0) -> httpx.AsyncClient:
    """The one pooled client a worker shares between its channels; close it at shutdown.

    Explicit timeouts keep a stalled provider from holding a job (and its
    connection) forever; the cap on connections bounds the load one worker
    puts on a provider. The send's whole deadline is enforced around each call.
    """
    return httpx.AsyncClient(
        timeout=httpx.Timeout(timeout_seconds, connect=min(5.0, timeout_seconds)),
        limits=httpx.Limits(max_connections=50),
    )


def channels_from_settings(
    settings: Settings, client: httpx.AsyncClient
) -> tuple[Channel, Channel]:
    """The (sms, email) channels: the configured providers, else ones that only log."""
    sms: Channel = LogChannel("sms")
    if settings.twilio_account_sid and settings.twilio_auth_token and settings.twilio_from:
        sms = TwilioSms(
            client,
            account_sid=settings.twilio_account_sid,
            auth_token=settings.twilio_auth_token,
            from_number=settings.twilio_from,
            base_url=settings.twilio_base_url,
        )
    email: Channel = LogChannel("email")
    if settings.sendgrid_api_key and settings.sendgrid_from:
        email = SendGridEmail(
            client,
            api_key=settings.sendgrid_api_key,
            from_email=settings.sendgrid_from,
            base_url=settings.sendgrid_base_url,
        )
    return sms, email
