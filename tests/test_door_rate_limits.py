"""Budgets in Redis, shared by every API process: cost points per IP and per user,
sign-ups and logins per IP, messages per destination; and what happens without Redis."""

import asyncio
import dataclasses
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import User
from devtools.embedded.process import free_port
from services.rate_limits.budgets import Budget, RateLimits, parse_rate_limits
from services.rate_limits.message_budgets import spend_message_budget
from services.settings import ConfigError, Settings, load_settings
from tests.support.api import serving, without_cost
from tests.support.people import person
from workers.channels.base import Delivery, PermanentSendError, RetryableSendError
from workers.channels.budgeted import BudgetedChannel

ROOT = Path(__file__).resolve().parent.parent
LIMITS = "ip=303/3600s,user=4/3600s,register=2/3600s,login=2/3600s"
PING = "{ __typename }"  # costs 1
CLINICS = "{ clinics { id } }"  # costs 101: three fit in an IP's budget
TOO_MANY = "Too many requests from this client; try again in {} s."


def test_rate_limits_are_parsed_as_the_contract_says() -> None:
    defaults = RateLimits()

    assert parse_rate_limits("") == defaults
    assert parse_rate_limits("ip=600/60s,register=10/3600s") == dataclasses.replace(
        defaults, ip=Budget(600, 60), register=Budget(10, 3600)
    )
    assert parse_rate_limits(" sms=3/86400s , ") == dataclasses.replace(
        defaults, sms=Budget(3, 86_400)
    )
    assert parse_rate_limits("off") == RateLimits(enabled=False)
    assert load_settings({"MEDAPPT_RATE_LIMITS": "login=5/60s"}).rate_limits.login == Budget(5, 60)


@pytest.mark.parametrize(
    ("raw", "message"),
    [
        ("ip=600/60", "MEDAPPT_RATE_LIMITS: 'ip=600/60' is not NAME=COUNT/SECONDSs"),
        ("ip=600", "MEDAPPT_RATE_LIMITS: 'ip=600' is not NAME=COUNT/SECONDSs"),
        (
            "sms=1/1s,calls=1/1s",
            "MEDAPPT_RATE_LIMITS: 'calls' is not one of ip, user, register, login, verify,"
            " reset, sms, messages",
        ),
        ("ip=0/60s", "MEDAPPT_RATE_LIMITS: 'ip=0/60s' needs a positive count and period"),
        ("OFF", "MEDAPPT_RATE_LIMITS: 'OFF' is not NAME=COUNT/SECONDSs"),
    ],
)
def test_malformed_rate_limits_stop_start_up(raw: str, message: str) -> None:
    with pytest.raises(ConfigError) as refused:
        load_settings({"MEDAPPT_RATE_LIMITS": raw})

    assert str(refused.value) == message


def _serve_env(settings: Settings) -> dict[str, str]:
    inherited = {
        key: value
        for key, value in os.environ.items()
        if not key.startswith(("MEDAPPT_", "AWS_", "S3_"))
        and key not in {"DATABASE_URL", "REDIS_URL"}
    }
    assert settings.database_url
    assert settings.redis_url
    assert settings.s3_endpoint_url
    return {
        **inherited,
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        "S3_ENDPOINT_URL": settings.s3_endpoint_url,
        "S3_BUCKET": settings.s3_bucket,
        "AWS_ACCESS_KEY_ID": settings.aws_access_key_id or "",
        "AWS_SECRET_ACCESS_KEY": settings.aws_secret_access_key or "",
        # The same signing key as the in-process server: it lives in the data directory.
        "MEDAPPT_DATA_DIR": str(settings.data_dir),
        "MEDAPPT_TRUSTED_PROXIES": "127.0.0.1",
        "MEDAPPT_RATE_LIMITS": LIMITS,
    }


@contextmanager
def _serve_process(settings: Settings, port: int) -> Iterator["subprocess.Popen[str]"]:
    command = [sys.executable, "-m", "medappt", "serve", "--host", "127.0.0.1", "--port", str(port)]
    command += ["--workers", "1"]
    process = subprocess.Popen(
        command,
        cwd=ROOT,
        env=_serve_env(settings),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        process.communicate(timeout=60)


async def _wait_for_health(process: "subprocess.Popen[str]", url: str) -> None:
    async with asyncio.timeout(60), httpx.AsyncClient(base_url=url, timeout=1) as http:
        while True:
            if process.poll() is not None:
                raise AssertionError(process.stdout.read() if process.stdout else "exited")
            try:
                if (await http.get("/health")).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)  # polling, within the deadline above


@pytest.fixture(scope="module")
async def two_apis(settings: Settings, api_url: str) -> AsyncIterator[tuple[str, str]]:
    """An API in this process and `medappt serve` in another, sharing one Redis."""
    limited = dataclasses.replace(
        settings, trusted_proxies=("127.0.0.1/32",), rate_limits=parse_rate_limits(LIMITS)
    )
    port = free_port()
    other_url = f"http://127.0.0.1:{port}"
    async with serving(limited) as url:
        with _serve_process(settings, port) as process:
            await _wait_for_health(process, other_url)
            yield url, other_url


async def _ask(url: str, ip: str, query: str = PING, *, token: str | None = None) -> httpx.Response:
    headers = {"X-Forwarded-For": ip}
    if token:
        headers["Authorization"] = f"Bearer {token}"
    async with httpx.AsyncClient(base_url=url, timeout=30) as http:
        return await http.post("/graphql", json={"query": query}, headers=headers)


def _codes(response: httpx.Response) -> list[str]:
    body = without_cost(response.json())
    return [error["extensions"]["code"] for error in body.get("errors", [])]


async def test_the_fourth_request_of_an_ip_is_refused_whichever_process_gets_it(
    two_apis: tuple[str, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    a, b = two_apis
    allowed = [await _ask(url, "203.0.113.1", CLINICS) for url in (a, b, a)]
    refused = await _ask(b, "203.0.113.1", CLINICS)
    other_ip = [await _ask(url, "203.0.113.2", CLINICS) for url in (b, a)]

    assert [_codes(response) for response in allowed] == [[], [], []]
    assert _codes(refused) == ["RATE_LIMITED"]
    error = refused.json()["errors"][0]
    wait = error["extensions"]["retryAfter"]
    # The bucket refills 303 points an hour: 101 more in about 1,200 seconds.
    assert 1100 <= wait <= 1200
    assert error["message"] == TOO_MANY.format(wait)
    assert refused.headers["Retry-After"] == str(wait)
    assert refused.json()["data"] is None
    assert [_codes(response) for response in other_ip] == [[], []]
    assert "Retry-After" not in other_ip[0].headers


async def test_a_signed_in_user_has_a_budget_whatever_the_ip(
    two_apis: tuple[str, str], sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    a, b = two_apis
    pat = await person(sessions, settings, Role.PATIENT, "Pat")
    token = pat.access_token

    allowed = [
        await _ask(url, f"198.51.100.{n}", token=token) for n, url in enumerate((a, b, a, b))
    ]
    refused = await _ask(a, "198.51.100.9", token=token)
    anonymous = await _ask(a, "198.51.100.9")

    assert [_codes(response) for response in allowed] == [[], [], [], []]
    assert _codes(refused) == ["RATE_LIMITED"]
    assert _codes(anonymous) == []


def _registration(n: int, alias: str = "r") -> str:
    return (
        f'{alias}{n}: registerPatient(input: {{email: "p{n}@example.test",'
        ' password: "long enough", name: "P"}) { expiresIn }'
    )


async def _users(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return await session.scalar(select(func.count()).select_from(User)) or 0


async def test_sign_ups_are_limited_per_ip_and_aliases_count_each(
    two_apis: tuple[str, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    a, b = two_apis
    first = await _ask(a, "192.0.2.1", f"mutation {{ {_registration(1)} }}")
    second = await _ask(b, "192.0.2.1", f"mutation {{ {_registration(2)} }}")
    third = await _ask(a, "192.0.2.1", f"mutation {{ {_registration(3)} }}")
    elsewhere = await _ask(b, "192.0.2.2", f"mutation {{ {_registration(4)} }}")
    three_at_once = await _ask(
        a, "192.0.2.3", "mutation { " + " ".join(_registration(n) for n in (5, 6, 7)) + " }"
    )

    assert [_codes(r) for r in (first, second, third, elsewhere)] == [
        [],
        [],
        ["RATE_LIMITED"],
        [],
    ]
    # More sign-ups than the whole budget: a full period's wait, and none is made.
    assert _codes(three_at_once) == ["RATE_LIMITED"]
    assert three_at_once.json()["errors"][0]["extensions"]["retryAfter"] == 3600
    assert three_at_once.headers["Retry-After"] == "3600"
    assert await _users(sessions) == 3


async def test_logins_are_limited_per_ip(
    two_apis: tuple[str, str], sessions: async_sessionmaker[AsyncSession]
) -> None:
    a, b = two_apis
    login = 'mutation { login(email: "x@example.test", password: "wrong one") { expiresIn } }'

    attempts = [await _ask(url, "192.0.2.9", login) for url in (a, b, a)]

    assert [_codes(r) for r in attempts] == [
        ["UNAUTHENTICATED"],
        ["UNAUTHENTICATED"],
        ["RATE_LIMITED"],
    ]


async def test_x_forwarded_for_counts_only_from_a_trusted_proxy(
    settings: Settings, api_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    one_each = dataclasses.replace(settings, rate_limits=parse_rate_limits("ip=1/3600s"))
    trusting = dataclasses.replace(one_each, trusted_proxies=("127.0.0.0/8",))
    async with serving(one_each) as untrusting_url:
        # Without trusted proxies the header is the client's word: ignored.
        spoofing = [await _ask(untrusting_url, f"192.0.2.{n}") for n in (1, 2)]
    async with serving(trusting) as trusting_url:
        # From a trusted proxy, the client is the last address the proxies did not add.
        behind_proxy = [
            await _ask(trusting_url, f"{spoofed}, 203.0.113.50, 127.0.0.5")
            for spoofed in ("10.0.0.1", "10.0.0.2")
        ]

    assert [_codes(r) for r in spoofing] == [[], ["RATE_LIMITED"]]
    assert [_codes(r) for r in behind_proxy] == [[], ["RATE_LIMITED"]]


async def test_without_redis_reads_go_through_and_sign_ups_do_not(
    settings: Settings, api_url: str, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # No start-up wait: the API starts at once and serves what it can without Redis.
    unreachable = dataclasses.replace(
        settings, redis_url="redis://127.0.0.1:9/0", startup_wait_s=0.0
    )
    async with serving(unreachable) as url:
        read = await _ask(url, "192.0.2.20")
        sign_up = await _ask(url, "192.0.2.20", f"mutation {{ {_registration(1)} }}")

    assert without_cost(read.json()) == {"data": {"__typename": "Query"}}
    assert _codes(sign_up) == ["SERVICE_UNAVAILABLE"]
    assert await _users(sessions) == 0


class _Recorder:
    def __init__(self) -> None:
        self.sent: list[str] = []

    async def send(self, *, to: str, subject: str, body: str) -> Delivery:
        self.sent.append(to)
        return Delivery(provider_message_id=f"m{len(self.sent)}")


async def test_appointment_texts_are_budgeted_per_phone(
    redis: Redis, sessions: async_sessionmaker[AsyncSession]
) -> None:
    limits = dataclasses.replace(RateLimits(), sms=Budget(2, 86_400))
    provider = _Recorder()
    sms = BudgetedChannel(provider, redis, limits, "sms")

    for _ in range(2):
        await sms.send(to="+14155550123", subject="", body="Your appointment")
    with pytest.raises(PermanentSendError) as over:
        await sms.send(to="+14155550123", subject="", body="Your appointment")
    await sms.send(to="+14155550199", subject="", body="Your appointment")

    assert provider.sent == ["+14155550123", "+14155550123", "+14155550199"]
    assert str(over.value).startswith("message budget for this destination is spent (next in ")
    # The key names no phone number.
    assert not [key async for key in redis.scan_iter("*4155550123*")]


async def test_without_redis_no_text_goes_out_and_it_is_retried_later() -> None:
    provider = _Recorder()
    unreachable = Redis.from_url("redis://127.0.0.1:9/0")
    sms = BudgetedChannel(provider, unreachable, RateLimits(), "sms")
    try:
        with pytest.raises(RetryableSendError):
            await sms.send(to="+14155550123", subject="", body="Your appointment")
    finally:
        await unreachable.aclose()

    assert provider.sent == []


async def test_verification_and_reset_messages_are_budgeted_per_address(
    redis: Redis, sessions: async_sessionmaker[AsyncSession]
) -> None:
    limits = dataclasses.replace(RateLimits(), verify=Budget(2, 3600), reset=Budget(1, 3600))
    spends: list[Any] = [
        await spend_message_budget(redis, limits, "verify", address)
        for address in ("Ann@Example.test", "ann@example.test ", "ann@example.test", "bo@x.test")
    ]
    resets = [await spend_message_budget(redis, limits, "reset", "ann@example.test") for _ in "ab"]

    # The same address however it is written; 2 an hour: the next in half an hour.
    assert spends[:2] == [0, 0]
    assert 1790 <= spends[2] <= 1800
    assert spends[3] == 0
    assert resets[0] == 0
    assert 3590 <= resets[1] <= 3600
    assert (
        await spend_message_budget(redis, RateLimits(enabled=False), "reset", "ann@example.test")
        == 0
    )
