"""A hand-written baseline for the patient-records query: what the answer costs without GraphQL.

Run with ``python -m bench.records.baseline --port N`` (``bench.records`` starts it), configured
from the same environment as ``medappt serve`` (``DATABASE_URL``, ``REDIS_URL``, ``S3_*``,
``AWS_*``, ``MEDAPPT_JWT_PRIVATE_KEY``) and run by uvicorn with the same settings: one
worker, uvloop and httptools (uvicorn's ``auto``), proxy headers, the access log on.

``POST /graphql`` ignores the query text: it reads ``variables.id``, answers with the JSON
the product gives for ``bench.records.query.QUERY`` (same keys, same order, same values but for
the time in each link's signature) from ONE SQL statement on an asyncpg pool, signs links
with :class:`services.documents.DocumentLinks` on the product's S3 client (so links are
reused the same way) and encodes with ``json.dumps`` as Strawberry's HTTP view does.

``BENCH_BASELINE_AUTH`` says how the Bearer token is checked:

- ``full`` (default): ``TokenService.verify_access`` and the Redis revoked-token check,
  as ``schema.context.authenticate`` does; a patient may read only themself;
- ``verify``: ``verify_access`` only;
- ``none``: the token is not looked at.

``BENCH_BASELINE_AUDIT=1`` also writes the audit rows the product writes for this query
(``patient.read``, ``patient.records.read`` and one ``record.document_url.issued`` a
link), in one ``INSERT ... SELECT FROM unnest(...)`` statement after the read.
"""

import argparse
import json
import os
import uuid
from collections.abc import AsyncIterator
from contextlib import AsyncExitStack, asynccontextmanager
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any, Literal

import asyncpg
import uvicorn
from redis.asyncio import Redis
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from db.enums import AuditOutcome, Role
from services.auth.revoked_tokens import is_revoked
from services.auth.tokens import TokenService
from services.documents import DocumentLinks
from services.errors import Unauthenticated
from services.settings import Settings, load_settings
from services.storage import s3_client

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

AuthMode = Literal["full", "verify", "none"]
PAGE_SIZE = 50
POOL_SIZE = 10  # as db.engine.create_engine's default

# The patient and its newest AVAILABLE records with their doctors' names, in one statement
# (the partial index ix_medical_records_patient_uploaded_at serves the lateral subquery).
RECORDS_SQL = """
SELECT p.id AS patient_id, p.name AS patient_name,
       r.id, r.title, r.record_type, r.uploaded_at, r.s3_key, r.file_name,
       d.name AS doctor_name
FROM patients p
LEFT JOIN LATERAL (
    SELECT m.id, m.title, m.record_type, m.uploaded_at, m.s3_key, m.file_name, m.doctor_id
    FROM medical_records m
    WHERE m.patient_id = p.id AND m.status = 'AVAILABLE'
    ORDER BY m.uploaded_at DESC, m.id DESC
    LIMIT $2
) r ON true
LEFT JOIN doctors d ON d.id = r.doctor_id
WHERE p.id = $1
ORDER BY r.uploaded_at DESC, r.id DESC
"""

AUDIT_SQL = """
INSERT INTO audit_log (actor_user_id, actor_role, action, patient_id, resource_type,
                       resource_id, outcome, ip, request_id)
SELECT $1::uuid, $2::text, a.action, $3::uuid, a.resource_type, a.resource_id, $4::text,
       $5::inet, $6::text
FROM unnest($7::text[], $8::text[], $9::text[]) AS a(action, resource_type, resource_id)
"""


@dataclass(frozen=True, slots=True)
class Reader:
    """Who asks: the verified claims' user, role and patient (or a stand-in without auth)."""

    user_id: uuid.UUID
    role: Role
    patient_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class Services:
    settings: Settings
    pool: "asyncpg.Pool[asyncpg.Record]"
    redis: Redis
    s3: "S3Client"
    tokens: TokenService
    documents: DocumentLinks
    auth: AuthMode
    audit: bool


ANONYMOUS_READER = Reader(uuid.UUID(int=0), Role.ADMIN, None)


def _error(message: str, code: str) -> dict[str, Any]:
    return {"message": message, "extensions": {"code": code}}


def _encode(payload: dict[str, Any]) -> Response:
    # Strawberry's HTTP view: json.dumps with compact separators, application/json.
    return Response(json.dumps(payload, separators=(",", ":")), media_type="application/json")


async def _reader(services: Services, authorization: str | None) -> Reader:
    """As ``schema.context.authenticate``, to the depth ``BENCH_BASELINE_AUTH`` asks."""
    if services.auth == "none":
        return ANONYMOUS_READER
    if authorization is None:
        raise Unauthenticated("Sign in to see patients.")
    scheme, _, token = authorization.partition(" ")
    if scheme.lower() != "bearer" or not token.strip():
        raise Unauthenticated("Invalid or expired access token.")
    claims = services.tokens.verify_access(token.strip())
    if services.auth == "full" and await is_revoked(services.redis, claims.jti, claims.family_id):
        raise Unauthenticated("Invalid or expired access token.")
    return Reader(claims.user_id, claims.role, claims.patient_id)


async def _audit(
    services: Services,
    reader: Reader,
    patient_id: uuid.UUID,
    record_ids: list[str],
    *,
    ip: str | None,
    request_id: str,
) -> None:
    actions = ["patient.read", "patient.records.read"]
    actions += ["record.document_url.issued"] * len(record_ids)
    resource_types = ["Patient", "Patient"] + ["MedicalRecord"] * len(record_ids)
    resource_ids = [str(patient_id), str(patient_id), *record_ids]
    await services.pool.execute(
        AUDIT_SQL,
        reader.user_id,
        reader.role.value,
        patient_id,
        AuditOutcome.ALLOWED.value,
        ip,
        request_id,
        actions,
        resource_types,
        resource_ids,
    )


async def graphql(request: Request) -> Response:
    services: Services = request.state.services
    try:
        reader = await _reader(services, request.headers.get("authorization"))
    except Unauthenticated as error:
        return _encode({"data": None, "errors": [_error(str(error), "UNAUTHENTICATED")]})
    body = json.loads(await request.body())
    patient_id = uuid.UUID(body["variables"]["id"])
    if reader.role is not Role.ADMIN and reader.patient_id != patient_id:
        forbidden = _error("You may not see this patient.", "FORBIDDEN")
        return _encode({"data": {"patient": None}, "errors": [forbidden]})

    rows = await services.pool.fetch(RECORDS_SQL, patient_id, PAGE_SIZE)
    if not rows:
        return _encode({"data": {"patient": None}})
    edges: list[dict[str, Any]] = []
    for row in rows:
        if row["id"] is None:  # the patient has no records: one row, from the left join
            continue
        url = await services.documents.read_url(row["s3_key"], row["file_name"], reader.user_id)
        doctor = {"name": row["doctor_name"]} if row["doctor_name"] is not None else None
        node = {
            "id": str(row["id"]),
            "title": row["title"],
            "recordType": row["record_type"],
            "uploadedAt": row["uploaded_at"].isoformat(),
            "doctor": doctor,
            "documentUrl": url,
        }
        edges.append({"node": node})
    if services.audit:
        request_id = request.headers.get("x-request-id") or uuid.uuid4().hex
        ip = request.client.host if request.client else None
        record_ids = [edge["node"]["id"] for edge in edges]
        await _audit(services, reader, patient_id, record_ids, ip=ip, request_id=request_id[:64])
    first = rows[0]
    patient = {
        "id": str(first["patient_id"]),
        "name": first["patient_name"],
        "records": {"edges": edges},
    }
    return _encode({"data": {"patient": patient}})


async def health(_: Request) -> Response:
    return JSONResponse({"status": "ok"})


def _auth_mode(value: str) -> AuthMode:
    if value == "full":
        return "full"
    if value == "verify":
        return "verify"
    if value == "none":
        return "none"
    raise ValueError(f"BENCH_BASELINE_AUTH must be full, verify or none, not {value!r}")


def create_app(settings: Settings, auth: AuthMode, audit: bool) -> Starlette:
    @asynccontextmanager
    async def lifespan(_: Starlette) -> AsyncIterator[dict[str, Services]]:
        async with AsyncExitStack() as stack:
            database_url = settings.require_database_url()
            for prefix in ("postgresql+asyncpg://", "postgres://"):
                if database_url.startswith(prefix):
                    database_url = "postgresql://" + database_url.removeprefix(prefix)
            pool: asyncpg.Pool[asyncpg.Record] = await asyncpg.create_pool(
                database_url, min_size=1, max_size=POOL_SIZE
            )
            stack.push_async_callback(pool.close)
            redis = Redis.from_url(settings.require_redis_url(), decode_responses=False)
            stack.push_async_callback(redis.aclose)
            s3 = await stack.enter_async_context(s3_client(settings))
            yield {
                "services": Services(
                    settings=settings,
                    pool=pool,
                    redis=redis,
                    s3=s3,
                    tokens=TokenService.from_settings(settings),
                    documents=DocumentLinks(s3, settings.s3_bucket, settings.document_url_seconds),
                    auth=auth,
                    audit=audit,
                )
            }

    return Starlette(
        routes=[
            Route("/health", health, methods=["GET"]),
            Route("/ready", health, methods=["GET"]),
            Route("/graphql", graphql, methods=["POST"]),
        ],
        lifespan=lifespan,
    )


def app_from_env() -> Starlette:
    return create_app(
        load_settings(os.environ),
        _auth_mode(os.environ.get("BENCH_BASELINE_AUTH", "full")),
        os.environ.get("BENCH_BASELINE_AUDIT", "0") == "1",
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8001)
    parser.add_argument("--workers", type=int, default=1)
    args = parser.parse_args()
    # As `medappt serve` (medappt/cli.py): loop and http "auto" pick uvloop and httptools.
    uvicorn.run(
        "bench.records.baseline:app_from_env",
        factory=True,
        host=args.host,
        port=args.port,
        workers=args.workers,
        proxy_headers=True,
    )


if __name__ == "__main__":
    main()
