"""OpenTelemetry traces, exported over OTLP only when the standard variables ask for it.

Without ``OTEL_EXPORTER_OTLP_ENDPOINT`` (or ``..._TRACES_ENDPOINT``) there is no
tracer provider at all: nothing is instrumented and nothing but a None check is
paid per request. With one, the ASGI app (medappt/app.py), SQLAlchemy, Redis, httpx
and S3 clients (services/s3_spans.py) are traced, each GraphQL operation is a span,
its resolvers are spans when the trace is sampled (``OTEL_TRACES_SAMPLER``), and each
worker job is a span (workers/job_spans.py). The instrumentation packages (2.5 MB
resident) are imported by the functions that instrument: an untraced process never
loads them.
"""

from collections.abc import Mapping

import httpx
from opentelemetry.metrics import NoOpMeterProvider
from opentelemetry.sdk.resources import SERVICE_NAME, Resource
from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.sdk.trace.export import BatchSpanProcessor, SpanExporter
from opentelemetry.trace import Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncEngine

INSTRUMENTATION_NAME = "medappt"
# W3C trace context only: baggage could carry anything a caller put in it.
_PROPAGATOR = TraceContextTextMapPropagator()


def tracer_provider_from_environment(
    environ: Mapping[str, str], service_name: str
) -> TracerProvider | None:
    """A provider exporting over OTLP, or None when the environment sets no endpoint."""
    endpoint = environ.get("OTEL_EXPORTER_OTLP_TRACES_ENDPOINT") or environ.get(
        "OTEL_EXPORTER_OTLP_ENDPOINT"
    )
    disabled = environ.get("OTEL_SDK_DISABLED", "").strip().lower() == "true"
    if not endpoint or disabled or environ.get("OTEL_TRACES_EXPORTER", "").strip() == "none":
        return None
    protocol = (
        environ.get("OTEL_EXPORTER_OTLP_TRACES_PROTOCOL")
        or environ.get("OTEL_EXPORTER_OTLP_PROTOCOL")
        or "http/protobuf"
    )
    exporter: SpanExporter
    # Each exporter reads the endpoint, headers, timeout and certificates itself.
    if protocol.strip() == "grpc":
        from opentelemetry.exporter.otlp.proto.grpc.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter as GrpcExporter,
        )

        exporter = GrpcExporter()
    else:
        from opentelemetry.exporter.otlp.proto.http.trace_exporter import (  # noqa: PLC0415
            OTLPSpanExporter as HttpExporter,
        )

        exporter = HttpExporter()
    # OTEL_SERVICE_NAME and OTEL_RESOURCE_ATTRIBUTES win over the default name.
    named = {} if environ.get("OTEL_SERVICE_NAME") else {SERVICE_NAME: service_name}
    provider = TracerProvider(resource=Resource.create(named))
    provider.add_span_processor(BatchSpanProcessor(exporter))
    return provider


def tracer_of(provider: TracerProvider) -> Tracer:
    return provider.get_tracer(INSTRUMENTATION_NAME)


def trace_engine(engine: AsyncEngine, provider: TracerProvider) -> None:
    """A span per statement (its text, never its parameters) and per connect."""
    # The instrumentor's own entry point patches create_engine for the whole process;
    # its per-engine tracer keeps to this engine and this provider.
    from opentelemetry.instrumentation.sqlalchemy.engine import EngineTracer  # noqa: PLC0415

    usage = NoOpMeterProvider().get_meter(INSTRUMENTATION_NAME).create_up_down_counter("unused")
    EngineTracer(  # type: ignore[no-untyped-call]
        provider.get_tracer("opentelemetry.instrumentation.sqlalchemy"), engine.sync_engine, usage
    )


def trace_redis(client: Redis, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.redis import RedisInstrumentor  # noqa: PLC0415

    RedisInstrumentor.instrument_client(client, tracer_provider=provider)


def trace_httpx(client: httpx.AsyncClient, provider: TracerProvider) -> None:
    from opentelemetry.instrumentation.httpx import HTTPXClientInstrumentor  # noqa: PLC0415

    HTTPXClientInstrumentor.instrument_client(client, tracer_provider=provider)


def current_trace_parent() -> str | None:
    """The W3C ``traceparent`` of the span current here; None outside a trace, which is
    always the case while nothing is traced."""
    carrier: dict[str, str] = {}
    _PROPAGATOR.inject(carrier)
    return carrier.get("traceparent")
