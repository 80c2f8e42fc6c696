"""HTTP caching of public reads: ``GET /graphql`` without ``Authorization`` for a query
whose root fields are all public (schema/limits/public_reads.py).

Such a response is the same for everyone, so it is answered with ``Cache-Control:
public, max-age=N``, an ``ETag`` (a hash of the body) and ``Vary: Authorization``, and
``If-None-Match`` with that tag gets 304 with no body. Every API process shares the
responses through Redis (services/public_responses.py): a current one is answered
without running GraphQL or touching PostgreSQL, after charging the client's budget what
the operation cost. Anything else (another method, a token, a private field, an error,
Redis unreachable) passes through untouched and leaves with ``no-store``.
"""

import json
import time
from dataclasses import dataclass

from redis.exceptions import RedisError
from starlette.datastructures import Headers, QueryParams
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from schema.limits.public_reads import public_operation
from services.container import Services
from services.errors import DomainError
from services.persisted_documents.hashes import document_hash
from services.persisted_documents.known import KnownDocuments
from services.public_responses import PublicResponse, lookup, new_response, response_key, store
from services.rate_limits.request_budgets import charge_request
from services.request_record import current_request, note_outcome


@dataclass(frozen=True, slots=True)
class _PublicRead:
    key: str
    operation: str
    services: Services


class PublicReads:
    def __init__(
        self, app: ASGIApp, *, documents: KnownDocuments, max_age: int, schema_fingerprint: str
    ) -> None:
        self.app = app
        self.documents = documents
        self.max_age = max_age
        self.schema_fingerprint = schema_fingerprint

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        read = await self._public_read(scope) if scope["method"] == "GET" else None
        if read is None:
            await self.app(scope, receive, send)
            return
        redis = read.services.redis
        try:
            found = await lookup(redis, read.key)
        except RedisError:
            await self.app(scope, receive, send)
            return
        if found.response is not None and await self._charged(scope, read, found.response):
            record = current_request.get()
            if record is not None:
                record.operation = read.operation
            note_outcome("OK")
            await self._answer(scope, send, found.response)
            return
        # Not cached (or over budget: GraphQL refuses it in its usual words).
        response = await self._run(scope, receive, send)
        if response is not None:
            await store(redis, read.key, found.version, response, self.max_age)
            await self._answer(scope, send, response)

    async def _public_read(self, scope: Scope) -> _PublicRead | None:
        headers = Headers(scope=scope)
        if "authorization" in headers:
            return None
        params = QueryParams(scope["query_string"])
        try:
            extensions = json.loads(params.get("extensions") or "null")
            variables = json.loads(params.get("variables") or "null")
        except (ValueError, RecursionError):
            return None  # GraphQL answers 400
        if not isinstance(extensions, dict | None) or not isinstance(variables, dict | None):
            return None
        services: Services = scope["state"]["services"]
        try:
            document = await self.documents.document(
                services.redis, params.get("query"), extensions
            )
        except DomainError:
            return None  # GraphQL refuses it in its usual words
        operation_name = params.get("operationName")
        operation = public_operation(document, operation_name) if document else None
        if document is None or operation is None:
            return None
        # The client's hash was checked against the text it names.
        persisted = (extensions or {}).get("persistedQuery")
        sha256 = document_hash(document) if persisted is None else persisted["sha256Hash"]
        canonical = json.dumps(variables or {}, sort_keys=True, separators=(",", ":"))
        key = response_key(self.schema_fingerprint, sha256, operation_name, canonical)
        return _PublicRead(key, operation, services)

    async def _charged(self, scope: Scope, read: _PublicRead, response: PublicResponse) -> bool:
        client = scope.get("client")
        try:
            await charge_request(
                read.services.redis,
                read.services.settings.rate_limits,
                ip=client[0] if client else None,
                user_id=None,
                cost=response.cost,
                registrations=0,
                logins=0,
            )
        except DomainError:
            return False
        return True

    async def _run(self, scope: Scope, receive: Receive, send: Send) -> PublicResponse | None:
        """Runs the operation; returns its response to cache when it succeeded without
        errors, else sends it as it is and returns None."""
        start: Message = {}
        body = bytearray()

        async def keep(message: Message) -> None:
            nonlocal start
            if message["type"] == "http.response.start":
                start = message
            elif message["type"] == "http.response.body":
                body.extend(message.get("body", b""))

        await self.app(scope, receive, keep)
        cost = _cost_of_a_clean_answer(start.get("status"), bytes(body))
        if cost is None:
            await send(start)
            await send({"type": "http.response.body", "body": bytes(body)})
            return None
        return new_response(bytes(body), cost)

    async def _answer(self, scope: Scope, send: Send, response: PublicResponse) -> None:
        headers = [
            (b"cache-control", b"public, max-age=%d" % self.max_age),
            (b"etag", response.etag.encode()),
            (b"age", b"%d" % max(0, int(time.time() - response.stored_at))),
            # A signed-in caller may be shown more (an admin sees a doctor's schedule).
            (b"vary", b"Authorization"),
        ]
        if _matches(Headers(scope=scope).get("if-none-match"), response.etag):
            await send({"type": "http.response.start", "status": 304, "headers": headers})
            await send({"type": "http.response.body", "body": b""})
            return
        headers += [
            (b"content-type", b"application/json"),
            (b"content-length", b"%d" % len(response.body)),
        ]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": response.body})


def _cost_of_a_clean_answer(status: int | None, body: bytes) -> int | None:
    """The cost of a 200 without errors; None for anything else."""
    if status != 200:
        return None
    try:
        answer = json.loads(body)
        cost = answer["extensions"]["cost"]["requested"]
    except (ValueError, KeyError, TypeError):
        return None
    return cost if "errors" not in answer and isinstance(cost, int) else None


def _matches(if_none_match: str | None, etag: str) -> bool:
    """RFC 9110's weak comparison, as If-None-Match asks: ``W/`` prefixes do not count."""
    if not if_none_match:
        return False
    tags = [tag.strip().removeprefix("W/") for tag in if_none_match.split(",")]
    return "*" in tags or etag in tags
