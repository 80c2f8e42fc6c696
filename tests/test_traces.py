"""Traces: one request, recorded by an in-memory exporter, is one tree of spans."""

from collections.abc import Sequence

import httpx
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
from tests.support.api import graphql, serving
from tests.support.scheduling import signed_in

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
    # leading bytes, the staged object deleted; then the presigned URL, signed here.
    assert tree(spans) == (
        ("POST /graphql", (
            ("EXISTS", ()),
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
                ("resolve MedicalRecord.documentUrl", ()),
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
