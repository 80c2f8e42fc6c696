"""Fake Twilio and SendGrid: real HTTP servers in the test event loop, scriptable to fail.

Each speaks enough of its provider's API to catch a client that authenticates
wrongly or leaves out a required field, records the messages it accepts, and
answers as the provider does.
"""

import asyncio
import base64
import binascii
import contextlib
import json
import re
import secrets
import socket
from abc import ABC, abstractmethod
from collections import deque
from collections.abc import AsyncIterator, Iterable
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import format_datetime
from http import HTTPStatus
from typing import Any, TypeVar
from urllib.parse import parse_qsl

import uvicorn
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from devtools.embedded.process import free_port
from tests.support.api import _InLoopServer

TWILIO_SID = "AC" + "0" * 32
TWILIO_TOKEN = "twilio-test-token"
TWILIO_FROM = "+15005550006"
SENDGRID_KEY = "SG.test-key.test-secret"
SENDGRID_FROM = "appointments@clinic.example"

_E164 = re.compile(r"\+[1-9]\d{1,14}")
_EMAIL = re.compile(r"[^@\s]+@[^@\s]+\.[^@\s]+")


@dataclass(frozen=True)
class Sms:
    sid: str
    to: str
    from_: str
    body: str


@dataclass(frozen=True)
class Email:
    message_id: str
    to: tuple[str, ...]
    from_: str
    subject: str
    content: dict[str, str]  # MIME type -> value


@dataclass(frozen=True)
class _Failure:
    status: int
    retry_after: int | None


class _Hang:
    """Answer only when the server stops: to the client, a read timeout."""


class FakeProvider(ABC):
    def __init__(self, base_url: str) -> None:
        self.base_url = base_url
        self.attempts = 0  # requests to the send endpoint, failed ones included
        self._script: deque[_Failure | _Hang] = deque()
        self._always: _Failure | None = None
        self._released = asyncio.Event()
        self.answer_delay = 0.0  # seconds every answer takes: a slow provider

    def fail_next(self, statuses: Iterable[int], *, retry_after: int | None = None) -> None:
        """Answer the next requests with these statuses, then behave again."""
        self._script.extend(_Failure(status, retry_after) for status in statuses)

    def fail_always(self, status: int) -> None:
        """Answer every request after any scripted ones with ``status``."""
        self._always = _Failure(status, None)

    def hang_next(self, n: int = 1) -> None:
        """Leave the next ``n`` requests unanswered until the server stops."""
        self._script.extend(_Hang() for _ in range(n))

    def release(self) -> None:
        """Let hung requests finish, as the server must before it can stop."""
        self._released.set()

    async def _scripted(self) -> Response | None:
        """The scripted answer to this request, or None to handle it for real."""
        self.attempts += 1
        if self.answer_delay:
            # The provider's own slowness, simulated: nothing in the test waits on it.
            await asyncio.sleep(self.answer_delay)
        step = self._script.popleft() if self._script else self._always
        if isinstance(step, _Hang):
            # An Event, not a long sleep, so that the server can stop promptly.
            await self._released.wait()
            return Response(status_code=HTTPStatus.GATEWAY_TIMEOUT)  # the client is gone
        if step is None:
            return None
        headers = {} if step.retry_after is None else {"Retry-After": str(step.retry_after)}
        return self._failure(step.status, headers)

    @abstractmethod
    def _failure(self, status: int, headers: dict[str, str]) -> Response:
        """A canned error response in the provider's format."""


class FakeTwilio(FakeProvider):
    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.messages: list[Sms] = []

    async def create_message(self, request: Request) -> Response:
        if (scripted := await self._scripted()) is not None:
            return scripted
        account = request.path_params["account_sid"]
        if _basic_auth(request) != (TWILIO_SID, TWILIO_TOKEN) or account != TWILIO_SID:
            return _twilio_error(HTTPStatus.UNAUTHORIZED, 20003, "Authenticate")
        form: dict[str, str] = {}
        if request.headers.get("content-type", "").startswith("application/x-www-form-urlencoded"):
            form = dict(parse_qsl((await request.body()).decode(), keep_blank_values=True))
        to, from_, body = form.get("To", ""), form.get("From", ""), form.get("Body", "")
        for missing, code, message in (
            (not to, 21604, "A 'To' phone number is required."),
            (not from_, 21603, "A 'From' phone number is required."),
            (not body, 21602, "Message body is required."),
            (not _E164.fullmatch(to), 21211, f"The 'To' number {to} is not a valid phone number."),
        ):
            if missing:
                return _twilio_error(HTTPStatus.BAD_REQUEST, code, message)
        sid = "SM" + secrets.token_hex(16)
        self.messages.append(Sms(sid=sid, to=to, from_=from_, body=body))
        now = format_datetime(datetime.now(UTC))
        return JSONResponse(
            {
                "sid": sid,
                "account_sid": account,
                "to": to,
                "from": from_,
                "body": body,
                "status": "queued",
                "direction": "outbound-api",
                "num_segments": "1",
                "date_created": now,
                "date_updated": now,
                "date_sent": None,
                "error_code": None,
                "error_message": None,
                "price": None,
                "api_version": "2010-04-01",
                "uri": f"/2010-04-01/Accounts/{account}/Messages/{sid}.json",
            },
            status_code=HTTPStatus.CREATED,
        )

    def _failure(self, status: int, headers: dict[str, str]) -> Response:
        # Twilio's own codes for these statuses are 20000 + status (20429, 20500, 20503).
        return _twilio_error(status, 20000 + status, HTTPStatus(status).phrase, headers)


class FakeSendGrid(FakeProvider):
    def __init__(self, base_url: str) -> None:
        super().__init__(base_url)
        self.messages: list[Email] = []

    async def send_mail(self, request: Request) -> Response:
        if (scripted := await self._scripted()) is not None:
            return scripted
        if request.headers.get("authorization") != f"Bearer {SENDGRID_KEY}":
            return _sendgrid_error(
                HTTPStatus.UNAUTHORIZED,
                [("The provided authorization grant is invalid, expired, or revoked", None)],
            )
        try:
            mail = json.loads(await request.body())
        except ValueError:
            return _sendgrid_error(HTTPStatus.BAD_REQUEST, [("Bad Request", None)])
        errors = _mail_errors(mail if isinstance(mail, dict) else {})
        if errors:
            return _sendgrid_error(HTTPStatus.BAD_REQUEST, errors)
        message_id = secrets.token_urlsafe(16)
        self.messages.append(
            Email(
                message_id=message_id,
                to=tuple(
                    address["email"]
                    for personalization in mail["personalizations"]
                    for address in personalization["to"]
                ),
                from_=mail["from"]["email"],
                subject=mail["subject"],
                content={block["type"]: block["value"] for block in mail["content"]},
            )
        )
        # SendGrid accepts with an empty body; the id is only in this header.
        return Response(status_code=HTTPStatus.ACCEPTED, headers={"X-Message-Id": message_id})

    def _failure(self, status: int, headers: dict[str, str]) -> Response:
        return _sendgrid_error(status, [(HTTPStatus(status).phrase, None)], headers)


def _mail_errors(mail: dict[str, Any]) -> list[tuple[str, str | None]]:
    """SendGrid's validation messages for a mail/send body, all at once as it reports them."""
    errors: list[tuple[str, str | None]] = []
    personalizations = mail.get("personalizations")
    if not isinstance(personalizations, list) or not personalizations:
        errors.append(
            (
                "The personalizations field is required and must have at least one "
                "personalization.",
                "personalizations",
            )
        )
    else:
        for p, personalization in enumerate(personalizations):
            recipients = personalization.get("to") if isinstance(personalization, dict) else None
            if not isinstance(recipients, list) or not recipients:
                errors.append(
                    (
                        "The to array is required for all personalization objects, and must "
                        "have at least one email object with a valid email address.",
                        f"personalizations.{p}.to",
                    )
                )
                continue
            errors.extend(
                ("Does not contain a valid address.", f"personalizations.{p}.to.{t}.email")
                for t, address in enumerate(recipients)
                if not _is_email(address)
            )
    if not _is_email(mail.get("from")):
        errors.append(("The from email does not contain a valid address.", "from.email"))
    if not isinstance(mail.get("subject"), str) or not mail["subject"]:
        errors.append(("The subject is required.", "subject"))
    content = mail.get("content")
    if not isinstance(content, list) or not content:
        errors.append(("There must be at least one defined content block.", "content"))
    else:
        errors.extend(
            ("The content value must be a string at least one character in length.", f"content.{c}")
            for c, block in enumerate(content)
            if not (
                isinstance(block, dict)
                and isinstance(block.get("type"), str)
                and isinstance(block.get("value"), str)
                and block["value"]
            )
        )
    return errors


def _is_email(address: object) -> bool:
    return (
        isinstance(address, dict)
        and isinstance(address.get("email"), str)
        and _EMAIL.fullmatch(address["email"]) is not None
    )


def _basic_auth(request: Request) -> tuple[str, str] | None:
    scheme, _, encoded = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != "basic":
        return None
    try:
        username, _, password = base64.b64decode(encoded, validate=True).decode().partition(":")
    except (binascii.Error, UnicodeDecodeError):
        return None
    return username, password


def _twilio_error(
    status: int, code: int, message: str, headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(
        {
            "code": code,
            "message": message,
            "more_info": f"https://www.twilio.com/docs/errors/{code}",
            "status": status,
        },
        status_code=status,
        headers=headers,
    )


def _sendgrid_error(
    status: int, errors: list[tuple[str, str | None]], headers: dict[str, str] | None = None
) -> Response:
    return JSONResponse(
        {
            "errors": [
                {"message": message, "field": field, "help": None} for message, field in errors
            ]
        },
        status_code=status,
        headers=headers,
    )


class _ProviderServer(_InLoopServer):
    def __init__(self, config: uvicorn.Config) -> None:
        super().__init__(config)
        self.ready = asyncio.Event()

    async def startup(self, sockets: list[socket.socket] | None = None) -> None:
        await super().startup(sockets)
        # Lets the fixture await the server instead of polling ``started``.
        self.ready.set()


P = TypeVar("P", bound=FakeProvider)


@contextlib.asynccontextmanager
async def _serving(fake: P, route: Route, port: int) -> AsyncIterator[P]:
    config = uvicorn.Config(
        Starlette(routes=[route]),
        host="127.0.0.1",
        port=port,
        log_level="warning",
        access_log=False,
        lifespan="off",
        ws="none",
    )
    server = _ProviderServer(config)
    serve = asyncio.create_task(server.serve())
    ready = asyncio.create_task(server.ready.wait())
    await asyncio.wait((serve, ready), return_when=asyncio.FIRST_COMPLETED)
    if not ready.done():
        ready.cancel()
        serve.result()  # raises why it could not start
        raise RuntimeError(f"{type(fake).__name__} stopped before it started")
    try:
        yield fake
    finally:
        fake.release()
        server.should_exit = True
        await serve


def twilio_server() -> contextlib.AbstractAsyncContextManager[FakeTwilio]:
    port = free_port()
    fake = FakeTwilio(f"http://127.0.0.1:{port}")
    route = Route(
        "/2010-04-01/Accounts/{account_sid}/Messages.json", fake.create_message, methods=["POST"]
    )
    return _serving(fake, route, port)


def sendgrid_server() -> contextlib.AbstractAsyncContextManager[FakeSendGrid]:
    port = free_port()
    fake = FakeSendGrid(f"http://127.0.0.1:{port}")
    return _serving(fake, Route("/v3/mail/send", fake.send_mail, methods=["POST"]), port)


def provider_environment(twilio: FakeTwilio, sendgrid: FakeSendGrid) -> dict[str, str]:
    """The environment that sends SMS and e-mail through these fakes."""
    return {
        "TWILIO_ACCOUNT_SID": TWILIO_SID,
        "TWILIO_AUTH_TOKEN": TWILIO_TOKEN,
        "TWILIO_FROM": TWILIO_FROM,
        "TWILIO_BASE_URL": twilio.base_url,
        "SENDGRID_API_KEY": SENDGRID_KEY,
        "SENDGRID_FROM": SENDGRID_FROM,
        "SENDGRID_BASE_URL": sendgrid.base_url,
    }
