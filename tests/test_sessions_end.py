"""Ending a session stops every access token of it at once, whichever way it ends; a
request pays for that with one Redis round trip and no database statement."""

import dataclasses
from collections.abc import Awaitable, Callable
from dataclasses import dataclass

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from services.rate_limits.budgets import RateLimits
from services.settings import Settings
from tests.support.accounts import (
    CHANGE,
    LOGIN,
    ME,
    REFRESH,
    REQUEST_RESET,
    RESET,
    links,
    ok,
    token_of,
)
from tests.support.api import error_codes, graphql, serving
from tests.support.people import PASSWORD, person
from tests.support.providers import FakeSendGrid
from tests.support.scheduling import signed_in
from tests.support.statements import counting_statements
from tests.support.worker import run_worker

EMAIL = "pat@example.test"
NEW_PASSWORD = "a brand new passphrase"
DEACTIVATE = "mutation D($id: ID!) { deactivateUser(userId: $id) { id email active } }"
INVALID_ACCESS = ("Invalid or expired access token.", "UNAUTHENTICATED")


@dataclass
class World:
    client: httpx.AsyncClient
    sessions: async_sessionmaker[AsyncSession]
    settings: Settings
    worker_settings: Settings
    sendgrid: FakeSendGrid
    user_id: str
    # The session that ends: two access tokens of it (before and after a refresh).
    access: tuple[str, str]
    refresh: tuple[str, str]  # the first (rotated) and the newest refresh token
    # Another session of the same user, elsewhere.
    other_access: str
    other_refresh: str


# Each way of ending the session; returns the tokens of a new session, if one starts.
End = Callable[[World], Awaitable[str | None]]


async def _logout(world: World) -> str | None:
    await ok(world.client, "mutation { logout }", token=world.access[1])
    return None


async def _logout_with_the_refresh_token_alone(world: World) -> str | None:
    await ok(world.client, "mutation L($t: String) { logout(refreshToken: $t) }",
             {"t": world.refresh[1]})  # fmt: skip
    return None


async def _refresh_token_reuse(world: World) -> str | None:
    reused = await graphql(world.client, REFRESH, {"token": world.refresh[0]})
    assert error_codes(reused) == ["UNAUTHENTICATED"]
    return None


async def _password_change(world: World) -> str | None:
    changed = await ok(world.client, CHANGE, {"current": PASSWORD, "new": NEW_PASSWORD},
                       world.access[1])  # fmt: skip
    token: str = changed["changePassword"]["accessToken"]
    return token


async def _password_reset(world: World) -> str | None:
    await ok(world.client, REQUEST_RESET, {"email": EMAIL})
    await run_worker(world.worker_settings, world.sessions)
    [link] = links(world.sendgrid, "reset-password", EMAIL)
    reset = await ok(world.client, RESET, {"token": token_of(link), "password": NEW_PASSWORD})
    token: str = reset["resetPassword"]["accessToken"]
    return token


async def _deactivation(world: World) -> str | None:
    admin = await signed_in(world.sessions, world.settings, Role.ADMIN)
    body = await ok(world.client, DEACTIVATE, {"id": world.user_id}, admin.token)
    assert body["deactivateUser"] == {"id": world.user_id, "email": EMAIL, "active": False}
    return None


# (way, whether the user's other sessions end too)
WAYS: list[tuple[End, bool]] = [
    (_logout, False),
    (_logout_with_the_refresh_token_alone, False),
    (_refresh_token_reuse, False),
    (_password_change, True),
    (_password_reset, True),
    (_deactivation, True),
]


@pytest.mark.parametrize(("end", "everywhere"), WAYS, ids=[way.__name__[1:] for way, _ in WAYS])
async def test_every_access_token_of_an_ended_session_is_refused(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    worker_settings: Settings, sendgrid: FakeSendGrid, end: End, everywhere: bool,
) -> None:  # fmt: skip
    pat = await person(sessions, settings, Role.PATIENT, "Pat", EMAIL)
    rotated = (await ok(client, REFRESH, {"token": pat.refresh_token}))["refreshToken"]
    other = (await ok(client, LOGIN, {"email": EMAIL, "password": PASSWORD}))["login"]
    world = World(
        client, sessions, settings, worker_settings, sendgrid, str(pat.user.id),
        access=(pat.access_token, rotated["accessToken"]),
        refresh=(pat.refresh_token, rotated["refreshToken"]),
        other_access=other["accessToken"], other_refresh=other["refreshToken"],
    )  # fmt: skip
    for token in (*world.access, world.other_access):
        assert "errors" not in await graphql(client, ME, token=token)

    new_session = await end(world)

    for token in world.access:
        body = await graphql(client, ME, token=token)
        assert body["data"] is None
        assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [INVALID_ACCESS]
    refreshed = await graphql(client, REFRESH, {"token": world.refresh[1]})
    assert error_codes(refreshed) == ["UNAUTHENTICATED"]
    other_me = await graphql(client, ME, token=world.other_access)
    other_refreshed = await graphql(client, REFRESH, {"token": world.other_refresh})
    if everywhere:
        assert error_codes(other_me) == error_codes(other_refreshed) == ["UNAUTHENTICATED"]
    else:
        assert other_me["data"]["me"]["email"] == EMAIL
        assert "errors" not in other_refreshed
    if new_session is not None:
        assert (await ok(client, ME, token=new_session))["me"]["email"] == EMAIL


async def test_a_deactivated_user_cannot_sign_in_again(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await person(sessions, settings, Role.PATIENT, "Pat", EMAIL)
    admin = await signed_in(sessions, settings, Role.ADMIN)

    await ok(client, DEACTIVATE, {"id": str(pat.user.id)}, admin.token)
    again = await ok(client, DEACTIVATE, {"id": str(pat.user.id)}, admin.token)
    login = await graphql(client, LOGIN, {"email": EMAIL, "password": PASSWORD})

    assert again["deactivateUser"]["active"] is False
    assert [(e["message"], e["extensions"]["code"]) for e in login["errors"]] == [
        ("Invalid e-mail or password.", "UNAUTHENTICATED")
    ]


async def test_only_admins_deactivate_and_not_themselves(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await person(sessions, settings, Role.PATIENT, "Pat", EMAIL)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    unknown = "00000000-0000-7000-8000-000000000000"

    by_patient = await graphql(
        client, DEACTIVATE, {"id": str(admin.user_id)}, token=pat.access_token
    )
    by_self = await graphql(client, DEACTIVATE, {"id": str(admin.user_id)}, token=admin.token)
    nobody = await graphql(client, DEACTIVATE, {"id": unknown}, token=admin.token)

    assert [(e["message"], e["extensions"]["code"]) for e in by_patient["errors"]] == [
        ("Only administrators may do this.", "FORBIDDEN")
    ]
    assert [(e["message"], e["extensions"]["code"]) for e in by_self["errors"]] == [
        ("You cannot deactivate your own account.", "BAD_USER_INPUT")
    ]
    assert error_codes(nobody) == ["NOT_FOUND"]
    assert "errors" not in await graphql(client, ME, token=admin.token)
    assert "errors" not in await graphql(client, ME, token=pat.access_token)


async def test_a_signed_in_request_costs_one_redis_round_trip_and_no_statement(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    redis: Redis,
) -> None:  # fmt: skip
    pat = await person(sessions, settings, Role.PATIENT, "Pat", EMAIL)
    await graphql(client, "{ __typename }", token=pat.access_token)  # scripts loaded

    await redis.config_resetstat()
    with counting_statements() as log:
        body = await graphql(client, "{ __typename }", token=pat.access_token)
    stats = await redis.info("commandstats")

    assert body == {"data": {"__typename": "Query"}}
    assert log.count == 0
    calls = {name: value["calls"] for name, value in stats.items()}
    # The door's one script: the revocation check (token and session in one EXISTS),
    # then the budgets. That the client sends nothing else, test_traces shows.
    assert calls.pop("cmdstat_evalsha") == 1
    assert calls.pop("cmdstat_exists") == 1
    inside_the_script = {"cmdstat_time", "cmdstat_hmget", "cmdstat_hset", "cmdstat_expire"}
    this_test = {"cmdstat_config|resetstat", "cmdstat_config", "cmdstat_info"}
    # Not the request's: the slot feed's keep-alive on its own connection, once a second
    # while no change is heard (services/slot_feed.py), once a subscription started it.
    background = {"cmdstat_ping"}
    assert set(calls) <= inside_the_script | this_test | background, calls


async def test_a_revoked_token_spends_nothing_and_is_refused_with_the_limits_off_too(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    redis: Redis,
) -> None:  # fmt: skip
    pat = await person(sessions, settings, Role.PATIENT, "Pat", EMAIL)
    budget = f"ratelimit:user:{pat.user.id}"
    await ok(client, "mutation { logout }", token=pat.access_token)
    spent_before = await redis.hgetall(budget)  # type: ignore[misc]

    refused = await graphql(client, ME, token=pat.access_token)
    spent_after = await redis.hgetall(budget)  # type: ignore[misc]
    unlimited = dataclasses.replace(settings, rate_limits=RateLimits(enabled=False))
    async with serving(unlimited) as url, httpx.AsyncClient(base_url=url) as http:
        refused_unlimited = await graphql(http, ME, token=pat.access_token)

    for body in (refused, refused_unlimited):
        assert body["data"] is None
        assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [INVALID_ACCESS]
    assert set(spent_before) == {b"tokens", b"at"}
    assert spent_after == spent_before
