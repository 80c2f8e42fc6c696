"""A span for each S3 call of one client, from botocore's own events.

aiobotocore emits ``before-call`` once a request is built and signed, just before it
is sent, then ``after-call`` when it is answered or ``after-call-error`` when it
could not be; the request's context dict travels from one to the other and carries
the span. Retries happen in between: one span covers an operation's attempts.

Attributes follow OpenTelemetry's AWS SDK conventions (``rpc.system`` ``aws-api``,
``rpc.service``, ``rpc.method``, ``aws.s3.bucket``), and leave out two things: the
object key, which holds the patient's id and the document's file name, and any
exception's text (botocore's connection errors quote the URL, key included). A
presigned URL is signed in this process without a request: it gets no span.

Why not opentelemetry-instrumentation-botocore (0.62 and later handle aiobotocore):
it patches the client class for the whole process with one provider, and records
``str(error)`` on the span.
"""

from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from opentelemetry.sdk.trace import TracerProvider
from opentelemetry.trace import Span, SpanKind, Status, StatusCode

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

_SPAN = "medappt.span"  # entries of botocore's request context
_BUCKET = "medappt.bucket"


def trace_s3(client: "S3Client", provider: TracerProvider) -> None:
    tracer = provider.get_tracer("medappt.s3")
    endpoint = urlsplit(client.meta.endpoint_url)
    server: dict[str, str | int] = {"server.address": endpoint.hostname or ""}
    if endpoint.port is not None:
        server["server.port"] = endpoint.port
    region = client.meta.region_name

    def parameters(params: dict[str, Any], context: dict[str, Any], **_: Any) -> None:
        if isinstance(bucket := params.get("Bucket"), str):
            context[_BUCKET] = bucket

    def before_call(model: Any, context: dict[str, Any], **_: Any) -> None:
        attributes: dict[str, str | int] = {
            "rpc.system": "aws-api",
            "rpc.service": "S3",
            "rpc.method": model.name,
            "cloud.region": region,
            **server,
        }
        if _BUCKET in context:
            attributes["aws.s3.bucket"] = context[_BUCKET]
        context[_SPAN] = tracer.start_span(
            f"S3.{model.name}", kind=SpanKind.CLIENT, attributes=attributes
        )

    def after_call(
        http_response: Any, parsed: dict[str, Any], context: dict[str, Any], **_: Any
    ) -> None:
        span: Span | None = context.pop(_SPAN, None)
        if span is None:
            return
        status = int(http_response.status_code)
        span.set_attribute("http.response.status_code", status)
        metadata = parsed.get("ResponseMetadata") or {}
        if request_id := metadata.get("RequestId"):
            span.set_attribute("aws.request_id", str(request_id))
        if status >= 400:
            error = (parsed.get("Error") or {}).get("Code") or str(status)
            span.set_attribute("error.type", str(error))
            span.set_status(Status(StatusCode.ERROR))
        span.end()

    def after_call_error(exception: BaseException, context: dict[str, Any], **_: Any) -> None:
        span: Span | None = context.pop(_SPAN, None)
        if span is None:
            return
        span.set_attribute("error.type", type(exception).__qualname__)
        span.set_status(Status(StatusCode.ERROR))
        span.end()

    events = client.meta.events
    events.register("provide-client-params.s3", parameters)
    events.register("before-call.s3", before_call)
    events.register("after-call.s3", after_call)
    events.register("after-call-error.s3", after_call_error)
