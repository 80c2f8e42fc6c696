"""HTTP caching of public reads: GET /graphql, Cache-Control, ETag, 304, and what is never cached."""

import dataclasses
import hashlib
import json
from datetime import time
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import User
from schema.limits.public_reads import public_operation
from services.rate_limits.budgets import parse_rate_limits
from services.settings import Settings
from tests.support.accounts import REGISTER, new_patient
from tests.support.api import serving
from tests.support.scheduling import (
    add_template,
    book_via_api,
    clinic_with_doctor,
    local,
    next_weekday,
    signed_in,
)
from tests.support.statements import counting_statements

SLOTS = """query PublicSlots($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt available }
}"""
PUBLIC = "public, max-age=30"
ZONE = "America/New_York"  # the clinic's


def etag_of(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


async def get(
    client: httpx.AsyncClient,
    query: str,
    variables: dict[str, Any] | None = None,
    **headers: str,
) -> httpx.Response:
    params = {"query": query}
    if variables is not None:
        params["variables"] = json.dumps(variables)
    return await client.get("/graphql", params=params, headers=headers)


def public_headers(response: httpx.Response) -> dict[str, str | None]:
    return {name: response.headers.get(name) for name in ("cache-control", "etag", "vary")}


@pytest.fixture
async def day_of_slots(
    sessions: async_sessionmaker[AsyncSession],
) -> tuple[Any, Any, dict[str, str]]:
    clinic, doctor = await clinic_with_doctor(sessions)
    day = next_weekday(1)
    await add_template(sessions, doctor, clinic, 1, time(9), time(10))
    return clinic, doctor, {"doctorId": str(doctor.id), "date": day.isoformat()}


async def test_a_public_get_is_cached_revalidated_and_refreshed_by_a_booking(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    day_of_slots: tuple[Any, Any, dict[str, str]],
) -> None:
    clinic, doctor, variables = day_of_slots
    day = next_weekday(1)
    first = await get(client, SLOTS, variables)
    with counting_statements() as repeated_sql:
        repeated = await get(client, SLOTS, variables)
    with counting_statements() as revalidated_sql:
        revalidated = await get(
            client, SLOTS, variables, **{"If-None-Match": first.headers["etag"]}
        )
    # Weak comparison over a list, as RFC 9110 asks of If-None-Match.
    listed = await get(
        client, SLOTS, variables, **{"If-None-Match": f'"x", W/{first.headers["etag"]}'}
    )
    patient = await signed_in(sessions, settings, Role.PATIENT)
    await book_via_api(client, clinic, doctor, local(day, 9, 0, ZONE), patient)
    with counting_statements() as after_booking_sql:
        after_booking = await get(
            client, SLOTS, variables, **{"If-None-Match": first.headers["etag"]}
        )

    assert first.status_code == 200
    assert first.json() == {
        "data": {
            "availableSlots": [
                {"startsAt": local(day, 9, 0, ZONE).isoformat(), "available": True},
                {"startsAt": local(day, 9, 30, ZONE).isoformat(), "available": True},
            ]
        },
        "extensions": {"cost": {"requested": 577, "limit": 50_000}},
    }
    assert public_headers(first) == {
        "cache-control": PUBLIC,
        "etag": etag_of(first.content),
        "vary": "Authorization, Origin",
    }
    # From the shared cache: no SQL, the same bytes and tag.
    assert (repeated.status_code, repeated.content, repeated_sql.count) == (200, first.content, 0)
    assert public_headers(repeated) == public_headers(first)
    assert int(repeated.headers["age"]) in (0, 1)
    assert (revalidated.status_code, revalidated.content, revalidated_sql.count) == (304, b"", 0)
    assert public_headers(revalidated) == public_headers(first)
    assert (listed.status_code, listed.content) == (304, b"")
    # The booking moved the slots: the old tag no longer matches, and the day is read again.
    assert after_booking.status_code == 200
    assert after_booking.json()["data"]["availableSlots"][0] == {
        "startsAt": local(day, 9, 0, ZONE).isoformat(),
        "available": False,
    }
    assert public_headers(after_booking) == {
        "cache-control": PUBLIC,
        "etag": etag_of(after_booking.content),
        "vary": "Authorization, Origin",
    }
    assert after_booking.headers["etag"] != first.headers["etag"]
    assert after_booking_sql.count > 0


async def test_an_answer_from_the_cache_is_charged_to_the_budget(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    # Room for two runs of `{ clinics { id } }` (cost 101) per hour.
    limited = dataclasses.replace(settings, rate_limits=parse_rate_limits("ip=202/3600s"))
    async with serving(limited) as url, httpx.AsyncClient(base_url=url) as client:
        computed = await get(client, "{ clinics { id } }")
        cached = await get(client, "{ clinics { id } }")
        refused = await get(client, "{ clinics { id } }")

    assert computed.headers["cache-control"] == cached.headers["cache-control"] == PUBLIC
    assert cached.content == computed.content
    assert refused.headers["cache-control"] == "no-store"
    assert refused.headers["retry-after"] == "1800"
    assert [e["extensions"]["code"] for e in refused.json()["errors"]] == ["RATE_LIMITED"]


async def test_what_is_not_public_is_not_cached(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    day_of_slots: tuple[Any, Any, dict[str, str]],
) -> None:
    _, _, variables = day_of_slots
    admin = await signed_in(sessions, settings, Role.ADMIN)
    with_token = await get(client, SLOTS, variables, Authorization=f"Bearer {admin.token}")
    private = await get(client, "{ me { id } }")
    mixed = await get(client, "{ clinics { id } me { id } }")
    through_fragment = await get(
        client, "{ ...F } fragment F on Query { clinics { id } me { id } }"
    )
    failing = await get(client, SLOTS, {**variables, "doctorId": "nope"})
    not_json = await client.get("/graphql", params={"query": SLOTS, "variables": "{"})

    for response in (with_token, private, mixed, through_fragment, failing, not_json):
        assert response.headers["cache-control"] == "no-store"
        assert "etag" not in response.headers
    assert with_token.json()["data"]["availableSlots"][0]["available"] is True
    assert [e["extensions"]["code"] for e in failing.json()["errors"]] == ["BAD_USER_INPUT"]
    assert not_json.status_code == 400


async def test_a_mutation_by_get_is_refused_and_nothing_changes(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    response = await get(client, REGISTER, {"input": new_patient()})

    assert response.status_code == 405
    assert response.headers["allow"] == "POST"
    assert response.headers["cache-control"] == "no-store"
    assert response.json() == {
        "errors": [
            {
                "message": "Only queries can be sent with GET; send mutations with POST.",
                "extensions": {"code": "BAD_USER_INPUT"},
            }
        ],
        "extensions": {"cost": {"requested": 0, "limit": 50_000}},
    }
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 0


@pytest.mark.parametrize(
    ("document", "operation_name", "public"),
    [
        ("{ clinics { id } }", None, "anonymous"),
        ("query Q { __typename doctors { edges { node { id } } } }", None, "Q"),
        ("query Q { ...F ...F } fragment F on Query { doctor(id: 1) { name } }", "Q", "Q"),
        ("query Q { ... on Query { searchSlots { edges { cursor } } } }", None, "Q"),
        ("query A { clinics { id } } query B { me { id } }", "A", "A"),
        ("query A { clinics { id } } query B { me { id } }", "B", None),
        ("query A { clinics { id } } query B { me { id } }", None, None),
        ("{ ...G } fragment G on Query { ...H } fragment H on Query { me { id } }", None, None),
        ("{ ...Missing }", None, None),
        ("{ __schema { types { name } } }", None, None),
        ("mutation { logout }", None, None),
        ("{ clinics { id }", None, None),
    ],
)
def test_public_operations_are_found_through_fragments(
    document: str, operation_name: str | None, public: str | None
) -> None:
    assert public_operation(document, operation_name) == public


async def test_without_redis_public_gets_and_persisted_queries_still_run(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    unreachable = dataclasses.replace(
        settings, redis_url="redis://127.0.0.1:9/0", startup_wait_s=0.0
    )
    query = "{ clinics { id } }"
    extensions = {
        "persistedQuery": {"version": 1, "sha256Hash": hashlib.sha256(query.encode()).hexdigest()}
    }
    async with serving(unreachable) as url, httpx.AsyncClient(base_url=url) as client:
        public = await get(client, query)
        by_hash = await client.post("/graphql", json={"extensions": extensions})
        with_query = await client.post("/graphql", json={"query": query, "extensions": extensions})

    # Answered from PostgreSQL, and not cacheable: nothing was kept to revalidate against.
    assert (public.status_code, public.json()["data"]) == (200, {"clinics": []})
    assert public.headers["cache-control"] == "no-store"
    assert by_hash.json()["errors"][0]["extensions"]["code"] == "PERSISTED_QUERY_NOT_FOUND"
    assert (with_query.status_code, with_query.json()["data"]) == (200, {"clinics": []})
