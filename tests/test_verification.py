"""Verified addresses: a link for the e-mail, a code for the phone, read from the fake
SendGrid and Twilio; appointment messages only to what was verified."""

import hashlib
import uuid
from datetime import UTC, datetime, timedelta

import httpx
from sqlalchemy import select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AccountTokenPurpose, Role
from db.models import AccountToken, Notification
from domain.auth.verification import INVALID_LINK, WRONG_CODE
from services.settings import Settings
from tests.support.accounts import (
    ME,
    PASSWORD,
    PHONE,
    REQUEST_EMAIL,
    REQUEST_PHONE,
    UPDATE_PROFILE,
    VERIFY_EMAIL,
    VERIFY_PHONE,
    codes,
    links,
    ok,
    register,
    token_of,
)
from tests.support.api import graphql
from tests.support.providers import FakeSendGrid, FakeTwilio
from tests.support.scheduling import Signed, book_via_api, local, make_monday_world, signed_in
from tests.support.worker import run_worker

NY = "America/New_York"
EMAIL = "jane@example.test"


def _errors(body: dict[str, object]) -> list[tuple[str, str]]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    return [(error["message"], error["extensions"]["code"]) for error in errors]


async def _verify_phone(
    client: httpx.AsyncClient, token: str, twilio: FakeTwilio,
    worker_settings: Settings, sessions: async_sessionmaker[AsyncSession],
) -> dict[str, object]:  # fmt: skip
    assert (await ok(client, REQUEST_PHONE, token=token)) == {"requestPhoneVerification": True}
    await run_worker(worker_settings, sessions)
    code = codes(twilio, PHONE)[-1]
    return await ok(client, VERIFY_PHONE, {"code": code}, token=token)


async def test_no_appointment_message_before_verification_and_one_after(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, twilio: FakeTwilio, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    registered = await register(client, email=EMAIL)
    user = registered["user"]
    pat = Signed(uuid.UUID(user["id"]), uuid.UUID(user["patient"]["id"]), registered["accessToken"])

    await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), pat)
    await run_worker(worker_settings, sessions)

    # Only the verification link, at once; nothing about the appointment anywhere.
    assert user["emailVerified"] is False
    assert user["patient"]["phoneVerified"] is False
    assert [(mail.to, mail.subject) for mail in sendgrid.messages] == [
        ((EMAIL,), "Confirm your e-mail address")
    ]
    [link] = links(sendgrid, "verify-email", EMAIL)
    assert link.startswith(f"{settings.public_url}/verify-email?token=")
    assert twilio.messages == []
    async with sessions() as session:
        assert (await session.scalars(select(Notification))).all() == []

    verified = await ok(client, VERIFY_EMAIL, {"token": token_of(link)})
    phone = await _verify_phone(client, pat.token, twilio, worker_settings, sessions)
    await book_via_api(client, clinic, doctor, local(monday, 9, 30, NY), pat)
    await run_worker(worker_settings, sessions)

    assert verified == {"verifyEmail": {"id": user["id"], "email": EMAIL, "emailVerified": True}}
    assert phone == {"verifyPhone": {"phone": PHONE, "phoneVerified": True}}
    assert [mail.subject.split(" - ")[0] for mail in sendgrid.messages] == [
        "Confirm your e-mail address", "Your appointment is booked",
    ]  # fmt: skip
    assert [sms.body.split(":")[0] for sms in twilio.messages] == [
        f"Your medappt verification code is {codes(twilio, PHONE)[0]}. It expires in 10 minutes.",
        "Your appointment is booked",
    ]
    assert (await ok(client, ME, token=pat.token))["me"]["emailVerified"] is True


async def test_a_link_works_once_and_is_stored_only_as_a_hash(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    worker_settings: Settings, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    await register(client, email=EMAIL)
    await run_worker(worker_settings, sessions)
    token = token_of(links(sendgrid, "verify-email", EMAIL)[0])

    first = await graphql(client, VERIFY_EMAIL, {"token": token})
    again = await graphql(client, VERIFY_EMAIL, {"token": token})

    assert first["data"]["verifyEmail"]["emailVerified"] is True
    assert again == {"data": None, "errors": again["errors"]}
    assert _errors(again) == [(INVALID_LINK, "BAD_USER_INPUT")]
    async with sessions() as session:
        [row] = (await session.scalars(select(AccountToken))).all()
        dump = repr([getattr(row, column) for column in AccountToken.__table__.columns.keys()])  # noqa: SIM118
    assert row.purpose is AccountTokenPurpose.EMAIL_VERIFICATION
    assert row.secret_hash == hashlib.sha256(token.encode()).digest()
    assert token not in dump
    assert row.expires_at - row.created_at == timedelta(hours=24)
    assert row.used_at is not None


async def test_an_expired_link_verifies_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    worker_settings: Settings, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    registered = await register(client, email=EMAIL)
    await run_worker(worker_settings, sessions)
    async with sessions.begin() as session:
        await session.execute(
            update(AccountToken).values(expires_at=datetime.now(UTC) - timedelta(seconds=1))
        )

    body = await graphql(
        client, VERIFY_EMAIL, {"token": token_of(links(sendgrid, "verify-email", EMAIL)[0])}
    )

    assert _errors(body) == [(INVALID_LINK, "BAD_USER_INPUT")]
    me = await ok(client, ME, token=registered["accessToken"])
    assert me["me"]["emailVerified"] is False


async def test_a_changed_address_is_unverified_and_an_old_link_does_not_verify_it(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    worker_settings: Settings, sendgrid: FakeSendGrid, twilio: FakeTwilio,
) -> None:  # fmt: skip
    registered = await register(client, email=EMAIL)
    token = registered["accessToken"]
    await run_worker(worker_settings, sessions)
    [old_link] = links(sendgrid, "verify-email", EMAIL)
    await ok(client, VERIFY_EMAIL, {"token": token_of(old_link)})
    await _verify_phone(client, token, twilio, worker_settings, sessions)
    # A second link to the first address, not used before the address changes.
    await ok(client, REQUEST_EMAIL, token=token)  # verified already: nothing is sent
    new_phone = "+14155550199"

    changed = await ok(
        client, UPDATE_PROFILE,
        {"input": {"email": "jane.new@example.test", "phone": new_phone, "currentPassword": PASSWORD}},
        token,
    )  # fmt: skip
    me_before = await ok(client, ME, token=token)
    await run_worker(worker_settings, sessions)
    [new_link] = links(sendgrid, "verify-email", "jane.new@example.test")
    stale_code = await graphql(client, VERIFY_PHONE, {"code": codes(twilio, PHONE)[0]}, token=token)
    verified = await ok(client, VERIFY_EMAIL, {"token": token_of(new_link)})

    assert changed["updateMyProfile"]["phoneVerified"] is False
    assert me_before["me"]["emailVerified"] is False
    assert len(links(sendgrid, "verify-email", EMAIL)) == 1
    assert _errors(stale_code) == [(WRONG_CODE, "BAD_USER_INPUT")]
    assert verified["verifyEmail"] == {
        "id": registered["user"]["id"], "email": "jane.new@example.test", "emailVerified": True,
    }  # fmt: skip
    me = await ok(client, ME, token=token)
    assert me["me"]["patient"] == {"phone": new_phone, "phoneVerified": False}


async def test_a_link_sent_before_the_address_changed_verifies_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    worker_settings: Settings, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    registered = await register(client, email=EMAIL)
    token = registered["accessToken"]
    await run_worker(worker_settings, sessions)
    [old_link] = links(sendgrid, "verify-email", EMAIL)
    await ok(client, UPDATE_PROFILE,
             {"input": {"email": "jane.new@example.test", "currentPassword": PASSWORD}}, token)  # fmt: skip

    # Before the worker sends the new link: the old one is for another address.
    body = await graphql(client, VERIFY_EMAIL, {"token": token_of(old_link)})

    assert _errors(body) == [(INVALID_LINK, "BAD_USER_INPUT")]
    assert (await ok(client, ME, token=token))["me"]["emailVerified"] is False


async def test_five_wrong_codes_use_the_code_up(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    worker_settings: Settings, twilio: FakeTwilio,
) -> None:  # fmt: skip
    registered = await register(client, email=EMAIL)
    token = registered["accessToken"]
    await ok(client, REQUEST_PHONE, token=token)
    await run_worker(worker_settings, sessions)
    [code] = codes(twilio, PHONE)
    wrong = f"{(int(code) + 1) % 1_000_000:06d}"

    tries = [await graphql(client, VERIFY_PHONE, {"code": wrong}, token=token) for _ in range(5)]
    right_too_late = await graphql(client, VERIFY_PHONE, {"code": code}, token=token)

    assert [_errors(body) for body in tries] == [[(WRONG_CODE, "BAD_USER_INPUT")]] * 5
    assert _errors(right_too_late) == [(WRONG_CODE, "BAD_USER_INPUT")]
    me = await ok(client, ME, token=token)
    assert me["me"]["patient"]["phoneVerified"] is False


async def test_verification_messages_to_one_address_are_budgeted(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    worker_settings: Settings, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    registered = await register(client, email=EMAIL)  # the first of five an hour
    token = registered["accessToken"]

    allowed = [await graphql(client, REQUEST_EMAIL, token=token) for _ in range(4)]
    refused = await graphql(client, REQUEST_EMAIL, token=token)
    await run_worker(worker_settings, sessions)

    assert allowed == [{"data": {"requestEmailVerification": True}}] * 4
    assert refused["data"] is None
    [error] = refused["errors"]
    assert error["extensions"]["code"] == "RATE_LIMITED"
    assert 0 < error["extensions"]["retryAfter"] <= 720  # one message per 12 minutes
    assert len(links(sendgrid, "verify-email", EMAIL)) == 5


async def test_who_may_ask_for_a_phone_code(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:  # fmt: skip
    admin = await signed_in(sessions, settings, Role.ADMIN)
    no_phone = await register(client, email="nophone@example.test", phone=None)

    as_admin = await graphql(client, REQUEST_PHONE, token=admin.token)
    code_as_admin = await graphql(client, VERIFY_PHONE, {"code": "123456"}, token=admin.token)
    without_phone = await graphql(client, REQUEST_PHONE, token=no_phone["accessToken"])
    anonymous = await graphql(client, REQUEST_PHONE)

    assert (
        _errors(as_admin)
        == _errors(code_as_admin)
        == [("Only patients have a phone to verify.", "FORBIDDEN")]
    )
    assert _errors(without_phone) == [
        ("There is no phone number to verify; add one with updateMyProfile.", "BAD_USER_INPUT")
    ]
    assert _errors(anonymous) == [("Sign in first.", "UNAUTHENTICATED")]


async def test_a_link_the_provider_failed_to_take_is_sent_again_and_works(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession],
    worker_settings: Settings, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    sendgrid.fail_next([503])
    await register(client, email=EMAIL)

    await run_worker(worker_settings, sessions)
    [link] = links(sendgrid, "verify-email", EMAIL)
    verified = await ok(client, VERIFY_EMAIL, {"token": token_of(link)})

    assert sendgrid.attempts == 2
    assert verified["verifyEmail"]["emailVerified"] is True
    async with sessions() as session:
        secrets = (await session.scalars(select(AccountToken))).all()
    # The first secret never reached anyone and was retired by the second.
    assert len(secrets) == 2
    assert all(secret.used_at is not None for secret in secrets)
