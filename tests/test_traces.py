"""Traces: one request, recorded by an in-memory exporter, is one tree of spans."""

from collections.abc import Sequence
from typing import Any

import httpx
import pytest
from arq import Retry
from arq.worker import func
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from opentelemetry.trace import SpanKind, StatusCode
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from services.document_store import DocumentStore
from services.s3_spans import trace_s3
from services.settings import Settings
from services.storage import ensure_bucket, s3_client
from services.tracing import tracer_of
from tests.support.api import graphql, serving
from tests.support.notifications import patient_with_phone
from tests.support.scheduling import book_via_api, local, make_monday_world, signed_in
from tests.support.worker import run_worker
from workers.job_spans import with_spans

NY = "America/New_York"

Tree = tuple[str, tuple["Tree", ...]]


def tree(spans: Sequence[ReadableSpan], parent: int | None = None) -> tuple[Tree, ...]:
    children = [s for s in spans if (s.parent.span_id if s.parent else None) == parent]
    children.sort(key=lambda s: s.start_time or 0)
    return tuple((s.name, tree(spans, s.context.span_id)) for s in children if s.context)


async def test_one_request_is_one_tree(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with serving(settings, provider) as url, httpx.AsyncClient(base_url=url) as http:
        await graphql(http, "query Clinics { clinics { id } }")
        exporter.clear()  # the first request also opened connections
        body = await graphql(http, "query Clinics { clinics { id name } }")

    spans = exporter.get_finished_spans()
    assert body == {"data": {"clinics": []}}
    # The server's span; the operation's; under it the rate limits' one Redis round trip
    # and the resolver (traced: the trace is sampled), whose one statement is its child.
    assert tree(spans) == (
        ("POST /graphql", (
            ("graphql Clinics", (
                ("EVALSHA", ()),
                ("resolve Query.clinics", (("SELECT", ()),)),
            )),
        )),
    )  # fmt: skip
    by_name = {span.name: span for span in spans}
    assert by_name["graphql Clinics"].attributes == {"graphql.operation.name": "Clinics"}
    statement = str((by_name["SELECT"].attributes or {}).get("db.statement", ""))
    assert statement.startswith("SELECT clinics.id"), statement
    assert "EVALSHA ?" in str((by_name["EVALSHA"].attributes or {}).get("db.statement"))


REQUEST = """mutation R($input: RecordUploadInput!) { requestRecordUpload(input: $input) {
  record { id } uploadUrl uploadHeaders } }"""
CONFIRM = "mutation C($id: ID!) { confirmRecordUpload(recordId: $id) { id documentUrl } }"
PDF = b"%PDF-1.4\n% a lab report\n%%EOF\n"


async def test_a_confirmed_upload_is_traced_down_to_s3(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    patient = await signed_in(sessions, settings, Role.PATIENT)
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, settings.s3_bucket)
    upload = {"patientId": str(patient.profile_id), "recordType": "LAB_REPORT", "title": "Blood panel",
              "fileName": "blood panel.pdf", "contentType": "application/pdf", "sizeBytes": len(PDF)}  # fmt: skip
    async with serving(settings, provider) as url, httpx.AsyncClient(base_url=url) as http:
        requested = await graphql(http, REQUEST, {"input": upload}, token=patient.token)
        ticket = requested["data"]["requestRecordUpload"]
        async with httpx.AsyncClient() as browser:
            put = await browser.put(
                ticket["uploadUrl"], content=PDF, headers=ticket["uploadHeaders"]
            )
        exporter.clear()
        confirmed = await graphql(
            http, CONFIRM, {"id": ticket["record"]["id"]}, token=patient.token
        )

    spans = exporter.get_finished_spans()
    assert put.status_code == 200
    assert confirmed["data"]["confirmRecordUpload"]["documentUrl"].startswith(
        settings.s3_endpoint_url or ""
    )
    # The confirmation's checks: the staged object's size, the copy, the copy's size and
    # leading bytes, the staged object deleted; the presigned URL is signed in the process
    # by the same resolver (no I/O, no span of its own).
    # The token's revocation check is inside the door's script (EVALSHA): one round trip.
    assert tree(spans) == (
        ("POST /graphql", (
            ("graphql C", (
                ("EVALSHA", ()),
                ("resolve Mutation.confirmRecordUpload", (
                    ("SELECT", ()),
                    ("S3.HeadObject", ()),
                    ("S3.CopyObject", ()),
                    ("S3.HeadObject", ()),
                    ("S3.GetObject", ()),
                    ("S3.DeleteObject", ()),
                    ("UPDATE", ()),
                )),
                ("INSERT", ()),
            )),
        )),
    )  # fmt: skip
    s3_spans = [span for span in spans if span.name.startswith("S3.")]
    endpoint = httpx.URL(settings.s3_endpoint_url or "")
    assert [{k: v for k, v in (span.attributes or {}).items() if k != "aws.request_id"} for span in s3_spans] == [
        {"rpc.system": "aws-api", "rpc.service": "S3", "rpc.method": method, "cloud.region": settings.aws_region,
         "server.address": endpoint.host, "server.port": endpoint.port, "aws.s3.bucket": settings.s3_bucket,
         "http.response.status_code": status}
        for method, status in [("HeadObject", 200), ("CopyObject", 200), ("HeadObject", 200), ("GetObject", 206), ("DeleteObject", 204)]
    ]  # fmt: skip
    assert all(span.kind == SpanKind.CLIENT for span in s3_spans)
    # The object key holds the patient's id and the file's name: no span carries either.
    values = " ".join(str(v) for span in spans for v in (span.attributes or {}).values())
    assert str(patient.profile_id) not in values
    assert "blood" not in values


async def test_a_missing_object_is_an_s3_span_in_error(
    settings: Settings, sessions: async_sessionmaker[AsyncSession]
) -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    async with s3_client(settings) as s3:
        await ensure_bucket(s3, settings.s3_bucket)
        trace_s3(s3, provider)
        stored = await DocumentStore(s3, settings.s3_bucket).stored("staging/nothing-here")

    (span,) = exporter.get_finished_spans()
    assert stored is None
    assert (span.name, span.status.status_code) == ("S3.HeadObject", StatusCode.ERROR)
    assert {k: v for k, v in (span.attributes or {}).items() if k.startswith(("http.", "error."))} == {
        "http.response.status_code": 404, "error.type": "404"
    }  # fmt: skip


async def test_a_bookings_jobs_continue_its_trace(
    client: httpx.AsyncClient, settings: Settings, sessions: async_sessionmaker[AsyncSession],
    worker_settings: Settings,
) -> None:  # fmt: skip
    # The API's and the worker's: the API shuts its own down as it stops.
    exporter, worker_exporter = InMemorySpanExporter(), InMemorySpanExporter()
    provider, worker_provider = TracerProvider(), TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))
    worker_provider.add_span_processor(SimpleSpanProcessor(worker_exporter))
    clinic, doctor, monday = await make_monday_world(sessions)
    patient = await patient_with_phone(sessions, settings)
    async with serving(settings, provider) as url, httpx.AsyncClient(base_url=url) as traced:
        await book_via_api(traced, clinic, doctor, local(monday, 9, 30, NY), patient)
    request = exporter.get_finished_spans()
    # The same patient books again through an API that traces nothing.
    await book_via_api(client, clinic, doctor, local(monday, 10, 0, NY), patient)
    assert await run_worker(worker_settings, sessions, tracer_provider=worker_provider) == 2

    spans = worker_exporter.get_finished_spans()
    jobs = {
        str((span.attributes or {})["messaging.message.id"]): span
        for span in spans
        if span.name.startswith("job ")
    }
    traced_job, untraced_job = jobs.pop("outbox:1"), jobs.pop("outbox:2")
    sends = sorted(jobs.values(), key=lambda span: span.parent.span_id if span.parent else 0)
    resolver = next(span for span in request if span.name == "resolve Mutation.bookAppointment")
    # The booking's job continues the request's trace, under the resolver that wrote the
    # outbox row; the job of the untraced booking begins a trace of its own.
    assert traced_job.name == untraced_job.name == "job appointment_booked"
    assert traced_job.parent is not None
    assert untraced_job.parent is None
    assert (traced_job.context.trace_id, traced_job.parent.span_id) == (
        resolver.context.trace_id,
        resolver.context.span_id,
    )
    assert traced_job.attributes == {
        "messaging.system": "arq",
        "messaging.operation.type": "process",
        "messaging.destination.name": "arq:queue",
        "messaging.message.id": "outbox:1",
        "arq.job.function": "appointment_booked",
        "arq.job.try": 1,
        "arq.job.outcome": "complete",
    }
    # Each planned its two sends (SMS, e-mail), whose jobs continue its trace, each with
    # the provider's HTTP call under it.
    assert [span.name for span in sends] == ["job send_notification"] * 4
    assert sorted((s.context.trace_id, s.parent.span_id) for s in sends if s.parent) == sorted(
        [
            (job.context.trace_id, job.context.span_id)
            for job in (traced_job, untraced_job)
            for _ in "ab"
        ]
    )
    assert all((send.attributes or {})["arq.job.outcome"] == "complete" for send in sends)
    calls = [span for span in spans if span.name == "POST"]
    assert sorted(call.parent.span_id for call in calls if call.parent) == sorted(
        send.context.span_id for send in sends
    )


async def test_a_jobs_span_says_how_it_ended() -> None:
    exporter = InMemorySpanExporter()
    provider = TracerProvider()
    provider.add_span_processor(SimpleSpanProcessor(exporter))

    async def retried(ctx: dict[str, Any]) -> None:
        raise Retry(defer=5)

    async def broken(ctx: dict[str, Any]) -> None:
        raise LookupError

    functions = [func(retried, name="retried"), func(broken, name="broken")]
    jobs = {job.name: job.coroutine for job in with_spans(functions, tracer_of(provider))}
    with pytest.raises(Retry):
        await jobs["retried"]({"job_id": "j1", "job_try": 3}, traceparent=None)
    with pytest.raises(LookupError):
        await jobs["broken"]({"job_id": "j2", "job_try": 1})

    ended = {
        span.name: (span.status.status_code, {k: v for k, v in (span.attributes or {}).items() if k.startswith(("arq.", "error."))})
        for span in exporter.get_finished_spans()
    }  # fmt: skip
    assert ended == {
        "job retried": (StatusCode.UNSET, {"arq.job.function": "retried", "arq.job.try": 3, "arq.job.outcome": "retry"}),
        "job broken": (StatusCode.ERROR, {"arq.job.function": "broken", "arq.job.try": 1, "arq.job.outcome": "failed", "error.type": "LookupError"}),
    }  # fmt: skip
