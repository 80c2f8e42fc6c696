"""Automatic persisted queries (Apollo's protocol) and trusted documents, on real servers."""

import dataclasses
import hashlib
import json
from collections.abc import AsyncIterator
from functools import _lru_cache_wrapper
from pathlib import Path
from typing import Any, cast

import httpx
import pytest
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from schema.limits import cost_cache, parsing, validation
from services.persisted_documents import store
from services.persisted_documents.trusted import load_trusted_documents
from services.rate_limits.budgets import parse_rate_limits
from services.settings import ConfigError, Settings, load_settings
from tests.support.api import serving
from tests.support.factories import add_clinic
from tests.support.statements import counting_statements
from tests.test_cli import medappt

CLINICS = "query PersistedClinics { clinics { name timezone } }"  # costs 201
LISTED = "query Listed { clinics { name } }"
UNLISTED = "query Unlisted { clinics { timezone } }"
# Sent by no other test: the API of `client` serves the whole session and each process
# keeps the documents it stored or fetched (a hash names its document for ever, so a
# process rightly keeps serving one Redis has lost); a hash another test registered
# would be known here even after Redis is flushed.
NEVER_STORED = "query NeverStored { clinics { name timezone } }"
BY_GET = "query PersistedByGet { clinics { name timezone } }"  # stored by one test only
NOT_FOUND = {
    "errors": [
        {"message": "PersistedQueryNotFound", "extensions": {"code": "PERSISTED_QUERY_NOT_FOUND"}}
    ],
    "extensions": {"cost": {"requested": 0, "limit": 50_000}},
}


def sha256(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def persisted(document: str, *, send_query: bool, version: object = 1) -> dict[str, Any]:
    body: dict[str, Any] = {
        "extensions": {"persistedQuery": {"version": version, "sha256Hash": sha256(document)}}
    }
    if send_query:
        body["query"] = document
    return body


def refusal(message: str, code: str) -> dict[str, Any]:
    return {
        "errors": [{"message": message, "extensions": {"code": code}}],
        "extensions": {"cost": {"requested": 0, "limit": 50_000}},
    }


def cache_counts() -> list[tuple[int, int]]:
    caches = (parsing.parse_document, validation.validate_query, cost_cache._cost)
    infos = [cast("_lru_cache_wrapper[Any]", cache).cache_info() for cache in caches]
    return [(info.hits, info.misses) for info in infos]


async def stored_documents(redis: Redis) -> dict[bytes, bytes]:
    stored = await redis.hgetall("apq:documents")  # type: ignore[misc]
    return cast("dict[bytes, bytes]", stored)


async def two_clinics(sessions: async_sessionmaker[AsyncSession]) -> None:
    async with sessions.begin() as session:
        await add_clinic(session, "Riverside", "America/New_York")
        await add_clinic(session, "Hillside", "Europe/Berlin")


CLINICS_DATA = {
    "clinics": [
        {"name": "Hillside", "timezone": "Europe/Berlin"},
        {"name": "Riverside", "timezone": "America/New_York"},
    ]
}


@pytest.fixture
async def limited_client(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> AsyncIterator[httpx.AsyncClient]:
    """An API whose IP budget holds two runs of CLINICS, and refills slowly."""
    limited = dataclasses.replace(settings, rate_limits=parse_rate_limits("ip=402/3600s"))
    async with serving(limited) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield http


async def test_a_document_sent_with_its_hash_runs_by_hash_alone_without_parse_or_validation(
    limited_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    await two_clinics(sessions)
    unknown = await limited_client.post("/graphql", json=persisted(CLINICS, send_query=False))
    with counting_statements() as full_run:
        registered = await limited_client.post("/graphql", json=persisted(CLINICS, send_query=True))
    before = cache_counts()
    with counting_statements() as by_hash:
        hit = await limited_client.post("/graphql", json=persisted(CLINICS, send_query=False))
    after = cache_counts()
    over_budget = await limited_client.post("/graphql", json=persisted(CLINICS, send_query=False))

    assert (unknown.status_code, unknown.json()) == (200, NOT_FOUND)
    expected = {"data": CLINICS_DATA, "extensions": {"cost": {"requested": 201, "limit": 50_000}}}
    assert (registered.status_code, registered.json()) == (200, expected)
    assert await stored_documents(redis) == {sha256(CLINICS).encode(): CLINICS.encode()}
    assert (hit.status_code, hit.json()) == (200, expected)
    # Parsed, validated and costed from memory: each cache hit once, none missed.
    assert [(h - h0, m - m0) for (h, m), (h0, m0) in zip(after, before, strict=True)] == [
        (1, 0),
        (1, 0),
        (1, 0),
    ]
    assert by_hash.statements == full_run.statements
    assert by_hash.count == 1
    # Charged like the full run: the budget held two.
    assert over_budget.json()["errors"][0]["extensions"]["code"] == "RATE_LIMITED"


async def test_a_hash_that_does_not_match_its_query_is_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    body = {**persisted(NEVER_STORED, send_query=True), "query": UNLISTED}

    mismatch = await client.post("/graphql", json=body)
    later = await client.post("/graphql", json=persisted(NEVER_STORED, send_query=False))

    assert (mismatch.status_code, mismatch.json()) == (
        400,
        refusal(
            "persistedQuery.sha256Hash is not the SHA-256 of the query sent with it.",
            "BAD_USER_INPUT",
        ),
    )
    assert await stored_documents(redis) == {}
    assert later.json() == NOT_FOUND


@pytest.mark.parametrize(
    ("persisted_query", "message"),
    [
        ({"version": 2, "sha256Hash": sha256(CLINICS)}, "Only version 1 of persisted queries"),
        ({"version": True, "sha256Hash": sha256(CLINICS)}, "Only version 1 of persisted queries"),
        ("v1", "Only version 1 of persisted queries"),
        ({"version": 1, "sha256Hash": sha256(CLINICS).upper()}, "persistedQuery.sha256Hash must"),
        ({"version": 1}, "persistedQuery.sha256Hash must"),
    ],
)
async def test_a_malformed_persisted_query_is_bad_user_input(
    client: httpx.AsyncClient, redis: Redis, persisted_query: object, message: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": CLINICS, "extensions": {"persistedQuery": persisted_query}}
    )

    assert response.status_code == 400
    [error] = response.json()["errors"]
    assert error["message"].startswith(message)
    assert error["extensions"] == {"code": "BAD_USER_INPUT"}
    assert await stored_documents(redis) == {}


async def test_a_document_that_does_not_validate_is_not_stored(
    client: httpx.AsyncClient, redis: Redis
) -> None:
    invalid = "query Invalid { clinics { nope } }"

    response = await client.post("/graphql", json=persisted(invalid, send_query=True))

    assert [e["extensions"]["code"] for e in response.json()["errors"]] == ["BAD_USER_INPUT"]
    assert await stored_documents(redis) == {}


async def test_persisted_queries_by_get(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    await two_clinics(sessions)
    extensions = json.dumps(persisted(BY_GET, send_query=False)["extensions"])

    unknown = await client.get("/graphql", params={"extensions": extensions})
    registered = await client.get("/graphql", params={"query": BY_GET, "extensions": extensions})
    # curl and browsers accept */*: still an operation, not a visit to GraphiQL.
    with counting_statements() as hit_sql:
        hit = await client.get(
            "/graphql", params={"extensions": extensions}, headers={"Accept": "*/*"}
        )

    assert unknown.json() == NOT_FOUND
    assert registered.json()["data"] == CLINICS_DATA
    # A public read: cached, so the hit by hash is answered without SQL.
    assert (hit.content, hit_sql.count) == (registered.content, 0)
    assert (
        hit.headers["cache-control"] == registered.headers["cache-control"] == "public, max-age=30"
    )
    assert hit.headers["etag"] == registered.headers["etag"]


@pytest.fixture
async def trusted_client(
    settings: Settings, sessions: async_sessionmaker[AsyncSession], tmp_path: Path
) -> AsyncIterator[httpx.AsyncClient]:
    listing = tmp_path / "trusted.json"
    listing.write_text(json.dumps({sha256(LISTED): LISTED}))
    trusted = dataclasses.replace(settings, trusted_documents=load_trusted_documents(listing))
    async with serving(trusted) as url, httpx.AsyncClient(base_url=url, timeout=30) as http:
        yield http


async def test_trusted_documents_run_and_nothing_else_does(
    trusted_client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], redis: Redis
) -> None:
    await two_clinics(sessions)
    listed_data = {"clinics": [{"name": "Hillside"}, {"name": "Riverside"}]}

    by_hash = await trusted_client.post("/graphql", json=persisted(LISTED, send_query=False))
    by_text = await trusted_client.post("/graphql", json={"query": LISTED})
    with_both = await trusted_client.post("/graphql", json=persisted(LISTED, send_query=True))
    refused = [
        await trusted_client.post("/graphql", json=body)
        for body in (
            {"query": UNLISTED},
            persisted(UNLISTED, send_query=False),
            persisted(UNLISTED, send_query=True),
        )
    ]
    by_get = await trusted_client.get("/graphql", params={"query": UNLISTED})

    for response in (by_hash, by_text, with_both):
        assert (response.status_code, response.json()["data"]) == (200, listed_data)
    for response in (*refused, by_get):
        assert (response.status_code, response.json()) == (200, NOT_FOUND)
    # Trusted documents are all that runs: nothing is registered.
    assert await stored_documents(redis) == {}


@pytest.mark.parametrize(
    ("content", "problem"),
    [
        (None, "cannot read '{path}': No such file or directory"),
        ("{", "'{path}' is not JSON"),
        ("[]", "'{path}' must hold a JSON object {{sha256: document}}"),
        (json.dumps({"abc": LISTED}), "'abc' is not a SHA-256 in lowercase hex"),
        (
            json.dumps({sha256(LISTED): 1}),
            f"the document of {sha256(LISTED)} is not a non-empty string",
        ),
        (
            json.dumps({sha256(LISTED): UNLISTED}),
            f"{sha256(LISTED)} is not the SHA-256 of its document",
        ),
    ],
)
def test_a_bad_trusted_documents_file_stops_start_up_naming_the_variable(
    tmp_path: Path, content: str | None, problem: str
) -> None:
    path = tmp_path / "trusted.json"
    if content is not None:
        path.write_text(content)

    with pytest.raises(ConfigError) as refused:
        load_settings({"MEDAPPT_TRUSTED_DOCUMENTS": str(path)})

    assert str(refused.value) == "MEDAPPT_TRUSTED_DOCUMENTS: " + problem.format(path=path)


def test_the_cli_builds_the_trusted_documents_file(tmp_path: Path) -> None:
    first, second = tmp_path / "listed.graphql", tmp_path / "unlisted.graphql"
    first.write_text(LISTED)
    second.write_text(UNLISTED + "\n")
    bad_start = medappt(
        "serve", "--port", "1", env={"MEDAPPT_TRUSTED_DOCUMENTS": str(tmp_path / "none.json")}
    )

    built = medappt("trusted-documents", str(first), str(second))

    assert built.returncode == 0, built.stderr
    listing = tmp_path / "trusted.json"
    listing.write_text(built.stdout)
    assert dict(load_trusted_documents(listing)) == {
        sha256(LISTED): LISTED,
        sha256(UNLISTED + "\n"): UNLISTED + "\n",
    }
    assert (bad_start.returncode, bad_start.stderr) == (
        1,
        "medappt serve: MEDAPPT_TRUSTED_DOCUMENTS: cannot read"
        f" '{tmp_path / 'none.json'}': No such file or directory\n",
    )


async def test_the_shared_store_keeps_the_most_recently_used_documents(
    redis: Redis, sessions: async_sessionmaker[AsyncSession], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "MAX_DOCUMENTS", 2)
    first, second, third = (f"query Q{n} {{ clinics {{ id }} }}" for n in range(3))
    one_process, another_process = store.PersistedDocuments(), store.PersistedDocuments()
    await one_process.store(redis, sha256(first), first)
    await one_process.store(redis, sha256(second), second)
    # Fetched by another process: used, so it outlives the one stored after it.
    assert await another_process.find(redis, sha256(first)) == first
    await one_process.store(redis, sha256(third), third)
    too_long = "#" * store.MAX_DOCUMENT_BYTES + "\n{ clinics { id } }"
    await one_process.store(redis, sha256(too_long), too_long)

    assert await stored_documents(redis) == {
        sha256(first).encode(): first.encode(),
        sha256(third).encode(): third.encode(),
    }
    assert await store.PersistedDocuments().find(redis, sha256(second)) is None
