"""Responses to public GETs in Redis, shared by every API process, so that a repeated
public read (or its revalidation, a 304) needs no SQL and no GraphQL execution.

An entry lives ``max_age`` seconds (``MEDAPPT_PUBLIC_MAX_AGE_S``) and, like a cached day
of slots (services/slot_cache.py), is served only while the slot-change counter is where
it was read before the response was computed: any booking, cancellation, move, template,
exception or deactivation makes every entry stale at once, and a response computed while
such a change committed is never served. Changes that move no slot (a clinic created, a
doctor renamed) show within ``max_age``, as they do in the browsers and proxies that
were told to keep the response that long.
"""

import hashlib
import logging
import time
from dataclasses import dataclass

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.slot_cache import SLOT_CHANGES_KEY

logger = logging.getLogger("services.public_responses")


@dataclass(frozen=True, slots=True)
class PublicResponse:
    etag: str  # quoted, strong: a hash of the body
    cost: int  # what the operation cost (extensions.cost.requested): the budgets charge it
    stored_at: float  # seconds since the epoch, for the Age header
    body: bytes


@dataclass(frozen=True, slots=True)
class Lookup:
    # The slot-change counter as read with the entry: a response computed now is stored
    # under it.
    version: int
    response: PublicResponse | None


def response_key(
    schema_fingerprint: str, document_sha256: str, operation_name: str | None, variables: str
) -> str:
    """Of one operation of one document with its variables (canonical JSON), under one schema
    (a process of another release does not serve what this one computed)."""
    digest = hashlib.sha256(
        f"{document_sha256}\0{operation_name or ''}\0{variables}".encode()
    ).hexdigest()
    return f"public:{schema_fingerprint}:{digest}"


def body_etag(body: bytes) -> str:
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


async def lookup(redis: "Redis", key: str) -> Lookup:
    """The entry, if current, with the counter: one round trip. Raises RedisError."""
    version, entry = await redis.mget([SLOT_CHANGES_KEY, key])
    current = int(version or 0)
    if entry is None:
        return Lookup(current, None)
    header, _, body = entry.partition(b"\n")
    stored_version, stored_at, cost, etag = header.split(b" ")
    if int(stored_version) != current:
        return Lookup(current, None)
    return Lookup(current, PublicResponse(etag.decode(), int(cost), float(stored_at), body))


async def store(
    redis: "Redis", key: str, version: int, response: PublicResponse, max_age: int
) -> None:
    """Best effort: an entry not stored is computed again next time."""
    header = b"%d %.3f %d %s\n" % (
        version,
        response.stored_at,
        response.cost,
        response.etag.encode(),
    )
    try:
        await redis.set(key, header + response.body, ex=max_age)
    except RedisError as error:
        logger.warning("public response not cached: %s", type(error).__name__)


def new_response(body: bytes, cost: int) -> PublicResponse:
    return PublicResponse(body_etag(body), cost, time.time(), body)
