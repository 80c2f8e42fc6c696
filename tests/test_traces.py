"""Traces: one request, recorded by an in-memory exporter, is one tree of spans."""

from collections.abc import Sequence

import httpx
from opentelemetry.sdk.trace import ReadableSpan, TracerProvider
from opentelemetry.sdk.trace.export import SimpleSpanProcessor
from opentelemetry.sdk.trace.export.in_memory_span_exporter import InMemorySpanExporter
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from services.settings import Settings
from tests.support.api import graphql, serving

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
