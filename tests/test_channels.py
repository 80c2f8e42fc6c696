"""The SMS and e-mail channels against fake Twilio and SendGrid servers over real HTTP."""

import logging
import re
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass

import httpx
import pytest

from devtools.embedded.process import free_port
from services.settings import load_settings
from tests.support.providers import (
    SENDGRID_FROM,
    SENDGRID_KEY,
    TWILIO_FROM,
    TWILIO_SID,
    TWILIO_TOKEN,
    Email,
    FakeProvider,
    FakeSendGrid,
    FakeTwilio,
    Sms,
    provider_environment,
    sendgrid_server,
    twilio_server,
)
from workers.channels.base import Channel, Delivery, PermanentSendError, RetryableSendError
from workers.channels.factory import channels_from_settings, http_client
from workers.channels.log import LogChannel, mask_recipient
from workers.channels.sendgrid import SendGridEmail
from workers.channels.twilio import TwilioSms

PHONE = "+14155550123"
ADDRESS = "jane.doe@example.com"
SUBJECT = "Your appointment"
BODY = "Dr. Lee, Tuesday 9:30. Reply C to cancel."


@pytest.fixture
async def http() -> AsyncIterator[httpx.AsyncClient]:
    async with http_client() as client:
        yield client


def twilio_sms(client: httpx.AsyncClient, base_url: str, *, token: str = TWILIO_TOKEN) -> TwilioSms:
    return TwilioSms(client, TWILIO_SID, token, TWILIO_FROM, base_url)


def sendgrid_email(
    client: httpx.AsyncClient, base_url: str, *, key: str = SENDGRID_KEY
) -> SendGridEmail:
    return SendGridEmail(client, key, SENDGRID_FROM, base_url)


@dataclass(frozen=True)
class Provider:
    """One provider's fake, how to build its channel, and whom it sends to."""

    name: str
    fake: FakeProvider
    channel: Callable[[httpx.AsyncClient], Channel]
    to: str

    async def send(self, client: httpx.AsyncClient) -> Delivery:
        return await self.channel(client).send(to=self.to, subject=SUBJECT, body=BODY)


@pytest.fixture(params=["Twilio", "SendGrid"])
async def provider(request: pytest.FixtureRequest) -> AsyncIterator[Provider]:
    if request.param == "Twilio":
        async with twilio_server() as twilio:
            yield Provider(
                "Twilio", twilio, lambda client: twilio_sms(client, twilio.base_url), PHONE
            )
    else:
        async with sendgrid_server() as sendgrid:
            yield Provider(
                "SendGrid",
                sendgrid,
                lambda client: sendgrid_email(client, sendgrid.base_url),
                ADDRESS,
            )


def sent(provider: Provider) -> int:
    fake = provider.fake
    assert isinstance(fake, FakeTwilio | FakeSendGrid)
    return len(fake.messages)


def canned(provider: Provider, status: int, phrase: str) -> str:
    """The error text for a scripted failure: Twilio adds its code 20000 + status."""
    if provider.name == "Twilio":
        return f"Twilio responded {status}: error {20000 + status}: {phrase}"
    return f"SendGrid responded {status}: {phrase}"


async def test_twilio_send_records_the_message_and_returns_its_sid(
    twilio: FakeTwilio, http: httpx.AsyncClient
) -> None:
    delivery = await twilio_sms(http, twilio.base_url).send(to=PHONE, subject=SUBJECT, body=BODY)

    assert re.fullmatch(r"SM[0-9a-f]{32}", delivery.provider_message_id)
    assert twilio.messages == [
        Sms(sid=delivery.provider_message_id, to=PHONE, from_=TWILIO_FROM, body=BODY)
    ]
    assert twilio.attempts == 1


async def test_sendgrid_send_records_the_message_and_returns_its_id(
    sendgrid: FakeSendGrid, http: httpx.AsyncClient
) -> None:
    delivery = await sendgrid_email(http, sendgrid.base_url).send(
        to=ADDRESS, subject=SUBJECT, body=BODY
    )

    assert re.fullmatch(r"[\w-]{22}", delivery.provider_message_id)
    assert sendgrid.messages == [
        Email(
            message_id=delivery.provider_message_id,
            to=(ADDRESS,),
            from_=SENDGRID_FROM,
            subject=SUBJECT,
            content={"text/plain": BODY},
        )
    ]
    assert sendgrid.attempts == 1


async def test_server_errors_are_retryable_until_the_provider_recovers(
    provider: Provider, http: httpx.AsyncClient
) -> None:
    provider.fake.fail_next([500, 500])

    for _ in range(2):
        with pytest.raises(RetryableSendError) as failed:
            await provider.send(http)
        assert str(failed.value) == canned(provider, 500, "Internal Server Error")
        assert failed.value.retry_after is None
    await provider.send(http)

    assert provider.fake.attempts == 3
    assert sent(provider) == 1


async def test_too_many_requests_is_retryable_after_the_given_delay(
    provider: Provider, http: httpx.AsyncClient
) -> None:
    provider.fake.fail_next([429], retry_after=7)

    with pytest.raises(RetryableSendError) as failed:
        await provider.send(http)

    assert str(failed.value) == canned(provider, 429, "Too Many Requests")
    assert failed.value.retry_after == 7
    assert sent(provider) == 0


async def test_an_outage_fails_every_attempt(provider: Provider, http: httpx.AsyncClient) -> None:
    provider.fake.fail_always(503)

    for _ in range(3):
        with pytest.raises(RetryableSendError) as failed:
            await provider.send(http)
        assert str(failed.value) == canned(provider, 503, "Service Unavailable")

    assert provider.fake.attempts == 3
    assert sent(provider) == 0


async def test_a_timeout_is_retryable(provider: Provider) -> None:
    provider.fake.hang_next()

    async with httpx.AsyncClient(timeout=0.2) as quick:
        with pytest.raises(RetryableSendError) as failed:
            await provider.send(quick)
        assert str(failed.value) == f"{provider.name} request failed: ReadTimeout"
        assert isinstance(failed.value.__cause__, httpx.ReadTimeout)

        await provider.send(quick)

    assert provider.fake.attempts == 2
    assert sent(provider) == 1


async def test_an_unreachable_provider_is_retryable(http: httpx.AsyncClient) -> None:
    nobody = f"http://127.0.0.1:{free_port()}"

    with pytest.raises(RetryableSendError) as failed:
        await twilio_sms(http, nobody).send(to=PHONE, subject="", body=BODY)

    assert str(failed.value).startswith("Twilio request failed: ConnectError")
    assert isinstance(failed.value.__cause__, httpx.ConnectError)


async def test_an_invalid_number_is_permanent(twilio: FakeTwilio, http: httpx.AsyncClient) -> None:
    with pytest.raises(PermanentSendError) as failed:
        await twilio_sms(http, twilio.base_url).send(to="555-0123", subject="", body=BODY)

    assert str(failed.value) == (
        "Twilio responded 400: error 21211: The 'To' number 555-0123 is not a valid phone number."
    )
    assert twilio.messages == []


async def test_an_invalid_address_is_permanent(
    sendgrid: FakeSendGrid, http: httpx.AsyncClient
) -> None:
    with pytest.raises(PermanentSendError) as failed:
        await sendgrid_email(http, sendgrid.base_url).send(
            to="jane.doe", subject=SUBJECT, body=BODY
        )

    assert str(failed.value) == (
        "SendGrid responded 400: personalizations.0.to.0.email: Does not contain a valid address."
    )
    assert sendgrid.messages == []


async def test_wrong_twilio_credentials_are_permanent(
    twilio: FakeTwilio, http: httpx.AsyncClient
) -> None:
    with pytest.raises(PermanentSendError) as failed:
        await twilio_sms(http, twilio.base_url, token="wrong").send(to=PHONE, subject="", body=BODY)

    assert str(failed.value) == "Twilio responded 401: error 20003: Authenticate"
    assert twilio.messages == []


async def test_a_wrong_sendgrid_key_is_permanent(
    sendgrid: FakeSendGrid, http: httpx.AsyncClient
) -> None:
    with pytest.raises(PermanentSendError) as failed:
        await sendgrid_email(http, sendgrid.base_url, key="SG.wrong").send(
            to=ADDRESS, subject=SUBJECT, body=BODY
        )

    assert str(failed.value) == (
        "SendGrid responded 401: The provided authorization grant is invalid, expired, or revoked"
    )
    assert sendgrid.messages == []


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (
            httpx.Response(201, json={"status": "queued"}),
            PermanentSendError,
            "Twilio responded 201 without a sid",
        ),
        (
            httpx.Response(502, text="<html>Bad Gateway</html>"),
            RetryableSendError,
            "Twilio responded 502",
        ),
        (
            httpx.Response(503, json={"message": "Down"}, headers={"Retry-After": "soon"}),
            RetryableSendError,
            "Twilio responded 503: Down",
        ),
    ],
)
async def test_twilio_responses_the_fake_does_not_give(
    response: httpx.Response, error: type[Exception], message: str
) -> None:
    transport = httpx.MockTransport(lambda _: response)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(error) as failed:
            await twilio_sms(client, "https://api.twilio.test").send(
                to=PHONE, subject="", body=BODY
            )

    assert str(failed.value) == message
    if isinstance(failed.value, RetryableSendError):
        assert failed.value.retry_after is None


@pytest.mark.parametrize(
    ("response", "error", "message"),
    [
        (httpx.Response(202), PermanentSendError, "SendGrid responded 202 without X-Message-Id"),
        (
            httpx.Response(
                400, json={"errors": [{"message": "A"}, {"message": "B", "field": "f"}]}
            ),
            PermanentSendError,
            "SendGrid responded 400: A; f: B",
        ),
        (
            httpx.Response(504, json=["not", "an", "object"]),
            RetryableSendError,
            "SendGrid responded 504",
        ),
    ],
)
async def test_sendgrid_responses_the_fake_does_not_give(
    response: httpx.Response, error: type[Exception], message: str
) -> None:
    transport = httpx.MockTransport(lambda _: response)
    async with httpx.AsyncClient(transport=transport) as client:
        with pytest.raises(error) as failed:
            await sendgrid_email(client, "https://api.sendgrid.test").send(
                to=ADDRESS, subject=SUBJECT, body=BODY
            )

    assert str(failed.value) == message


@pytest.mark.parametrize(
    ("fields", "code", "message"),
    [
        ({"From": TWILIO_FROM, "Body": BODY}, 21604, "A 'To' phone number is required."),
        ({"To": PHONE, "Body": BODY}, 21603, "A 'From' phone number is required."),
        ({"To": PHONE, "From": TWILIO_FROM, "Body": ""}, 21602, "Message body is required."),
    ],
)
async def test_fake_twilio_requires_every_field(
    twilio: FakeTwilio, http: httpx.AsyncClient, fields: dict[str, str], code: int, message: str
) -> None:
    response = await http.post(
        f"{twilio.base_url}/2010-04-01/Accounts/{TWILIO_SID}/Messages.json",
        data=fields,
        auth=(TWILIO_SID, TWILIO_TOKEN),
    )

    assert response.status_code == 400
    assert response.json() == {
        "code": code,
        "message": message,
        "more_info": f"https://www.twilio.com/docs/errors/{code}",
        "status": 400,
    }
    assert twilio.messages == []


_TO_REQUIRED = "The to array is required for all personalization objects, and must have at least one email object with a valid email address."
_FROM_INVALID = "The from email does not contain a valid address."
_SUBJECT_REQUIRED = "The subject is required."


@pytest.mark.parametrize(
    ("body", "errors"),
    [
        (b"{", [(None, "Bad Request")]),
        (
            b"{}",
            [
                (
                    "personalizations",
                    "The personalizations field is required and must have at least one personalization.",
                ),
                ("from.email", _FROM_INVALID),
                ("subject", _SUBJECT_REQUIRED),
                ("content", "There must be at least one defined content block."),
            ],
        ),
        (
            b'{"personalizations": [{}], "content": [{"type": "text/plain", "value": ""}]}',
            [
                ("personalizations.0.to", _TO_REQUIRED),
                ("from.email", _FROM_INVALID),
                ("subject", _SUBJECT_REQUIRED),
                (
                    "content.0",
                    "The content value must be a string at least one character in length.",
                ),
            ],
        ),
    ],
)
async def test_fake_sendgrid_requires_every_field(
    sendgrid: FakeSendGrid,
    http: httpx.AsyncClient,
    body: bytes,
    errors: list[tuple[str | None, str]],
) -> None:
    response = await http.post(
        f"{sendgrid.base_url}/v3/mail/send",
        content=body,
        headers={"Authorization": f"Bearer {SENDGRID_KEY}", "Content-Type": "application/json"},
    )

    assert response.status_code == 400
    assert [(error["field"], error["message"]) for error in response.json()["errors"]] == errors
    assert sendgrid.messages == []


@pytest.mark.parametrize(
    ("recipient", "masked"),
    [
        ("+14155550123", "+1415***0123"),
        ("+442071838750", "+4420***8750"),
        ("+3312345", "***"),
        ("jane.doe@example.com", "j***@example.com"),
        ("@example.com", "***@example.com"),
    ],
)
def test_mask_recipient(recipient: str, masked: str) -> None:
    assert mask_recipient(recipient) == masked


async def test_log_channel_logs_a_masked_recipient_and_not_the_body(
    caplog: pytest.LogCaptureFixture,
) -> None:
    caplog.set_level(logging.INFO, logger="workers.channels.log")

    sms = await LogChannel("sms").send(to=PHONE, subject="", body=BODY)
    email = await LogChannel("email").send(to=ADDRESS, subject=SUBJECT, body=BODY)

    assert re.fullmatch(r"log-[0-9a-f-]{36}", sms.provider_message_id)
    assert sms != email
    assert caplog.record_tuples == [
        (
            "workers.channels.log",
            logging.INFO,
            f"sms not configured; not sending {sms.provider_message_id} to +1415***0123 "
            f"(subject '', {len(BODY)} characters)",
        ),
        (
            "workers.channels.log",
            logging.INFO,
            f"email not configured; not sending {email.provider_message_id} to "
            f"j***@example.com (subject 'Your appointment', {len(BODY)} characters)",
        ),
    ]


async def test_unconfigured_providers_only_log(http: httpx.AsyncClient) -> None:
    sms, email = channels_from_settings(load_settings({}), http)

    assert isinstance(sms, LogChannel)
    assert isinstance(email, LogChannel)


async def test_configured_providers_send_through_them(
    twilio: FakeTwilio, sendgrid: FakeSendGrid, http: httpx.AsyncClient
) -> None:
    settings = load_settings(provider_environment(twilio, sendgrid))
    sms, email = channels_from_settings(settings, http)

    text = await sms.send(to=PHONE, subject="", body=BODY)
    mail = await email.send(to=ADDRESS, subject=SUBJECT, body=BODY)

    assert isinstance(sms, TwilioSms)
    assert isinstance(email, SendGridEmail)
    assert [message.sid for message in twilio.messages] == [text.provider_message_id]
    assert [message.message_id for message in sendgrid.messages] == [mail.provider_message_id]


async def test_http_client_has_explicit_timeouts(http: httpx.AsyncClient) -> None:
    assert http.timeout == httpx.Timeout(30.0, connect=5.0)
