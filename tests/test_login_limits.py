"""Brute force: the 101st failure within an hour for one account is RATE_LIMITED."""

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AuditOutcome, Role
from db.models import AuditEntry
from services.settings import Settings
from tests.support.api import error_codes, graphql
from tests.support.people import PASSWORD, person

TOO_MANY = "Too many failed sign-in attempts. Try again later."


def _login(email: str, password: str, alias: str = "login") -> str:
    return f'{alias}: login(email: "{email}", password: "{password}") {{ accessToken }}'


async def _attempt(client: httpx.AsyncClient, email: str, password: str) -> list[str]:
    return error_codes(await graphql(client, "mutation { " + _login(email, password) + " }"))


async def _audit_outcomes(sessions: async_sessionmaker[AsyncSession]) -> dict[str, int]:
    async with sessions() as session:
        rows = await session.execute(
            select(AuditEntry.outcome, func.count())
            .where(AuditEntry.action == "login")
            .group_by(AuditEntry.outcome)
        )
    return {outcome.value: count for outcome, count in rows.all()}


@pytest.mark.parametrize("email", ["pat@example.test", "nobody@example.test"])
async def test_the_101st_failure_is_rate_limited_even_with_the_right_password(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    email: str,
) -> None:
    await person(sessions, settings, Role.PATIENT, "Pat", "pat@example.test")

    failures = [await _attempt(client, email, "wrong password") for _ in range(100)]
    blocked = await graphql(client, "mutation { " + _login(email, PASSWORD) + " }")
    other_account = await _attempt(client, "pat-other@example.test", "wrong password")

    assert failures == [["UNAUTHENTICATED"]] * 100
    assert blocked["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in blocked["errors"]] == [
        (TOO_MANY, "RATE_LIMITED")
    ]
    assert other_account == ["UNAUTHENTICATED"]
    assert await _audit_outcomes(sessions) == {
        AuditOutcome.FAILED.value: 101,
        AuditOutcome.DENIED.value: 1,
    }


async def test_aliases_cannot_multiply_attempts(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await person(sessions, settings, Role.PATIENT, "Pat", "pat@example.test")
    fields = " ".join(_login("pat@example.test", "wrong password", f"a{n}") for n in range(101))

    body = await graphql(client, "mutation { " + fields + " }")
    # Mutation fields run one after another and `login` is non-null: the first
    # failure ends the document, so 101 aliases are one attempt, and it counts.
    assert body["data"] is None
    assert [(e["path"], e["extensions"]["code"]) for e in body["errors"]] == [
        (["a0"], "UNAUTHENTICATED")
    ]
    assert await _audit_outcomes(sessions) == {AuditOutcome.FAILED.value: 1}

    rest = [await _attempt(client, "pat@example.test", "wrong password") for _ in range(99)]
    hundred_and_first = await graphql(client, "mutation { " + fields + " }")

    assert rest == [["UNAUTHENTICATED"]] * 99
    assert [(e["path"], e["extensions"]["code"]) for e in hundred_and_first["errors"]] == [
        (["a0"], "RATE_LIMITED")
    ]


async def test_a_success_does_not_count_as_a_failure(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await person(sessions, settings, Role.PATIENT, "Pat", "pat@example.test")

    outcomes = []
    for _ in range(99):
        outcomes += await _attempt(client, "pat@example.test", "wrong password")
    for _ in range(5):
        outcomes += await _attempt(client, "pat@example.test", PASSWORD)

    # 99 failures, then 5 successes that leave the count at 99: none is refused.
    assert outcomes == ["UNAUTHENTICATED"] * 99
