"""A span per arq job, continuing the trace that enqueued it.

Every job is enqueued with a ``traceparent`` keyword argument: the W3C trace context
current where it was enqueued, or None outside a trace (always, when nothing is
traced). For a request's change, that is the request's, kept in the outbox row it
wrote and handed on by the relay; for the sends a job plans, the job's. The job's
span is a child in that trace, so one trace runs from ``bookAppointment`` to the
confirmation it caused. Cron jobs (the relay, the rescan that sends reminders when
they fall due), and jobs enqueued outside a trace, begin traces of their own.

Every job function is wrapped, traced or not, so that each accepts the argument.
"""

import asyncio
import dataclasses
from collections.abc import Sequence
from typing import Any

from arq import Retry
from arq.constants import default_queue_name
from arq.cron import CronJob
from arq.typing import WorkerCoroutine
from arq.worker import Function, func
from opentelemetry.propagators.textmap import DefaultGetter
from opentelemetry.trace import SpanKind, Status, StatusCode, Tracer
from opentelemetry.trace.propagation.tracecontext import TraceContextTextMapPropagator

TRACEPARENT = "traceparent"
_PROPAGATOR = TraceContextTextMapPropagator()


def with_spans(
    functions: Sequence[WorkerCoroutine | Function], tracer: Tracer | None
) -> list[Function]:
    jobs = [job if isinstance(job, Function) else func(job) for job in functions]
    return [
        dataclasses.replace(job, coroutine=_wrapped(job.name, job.coroutine, tracer))
        for job in jobs
    ]


def cron_with_spans(jobs: Sequence[CronJob], tracer: Tracer | None) -> list[CronJob]:
    return [
        dataclasses.replace(job, coroutine=_wrapped(job.name, job.coroutine, tracer))
        for job in jobs
    ]


def _wrapped(name: str, run: WorkerCoroutine, tracer: Tracer | None) -> WorkerCoroutine:
    async def untraced(
        ctx: dict[str, Any], *args: Any, traceparent: str | None = None, **kwargs: Any
    ) -> Any:
        return await run(ctx, *args, **kwargs)

    async def traced(
        ctx: dict[str, Any], *args: Any, traceparent: str | None = None, **kwargs: Any
    ) -> Any:
        assert tracer is not None
        parent = None
        if traceparent is not None:
            parent = _PROPAGATOR.extract({TRACEPARENT: traceparent}, getter=DefaultGetter())
        attributes: dict[str, str | int] = {
            "messaging.system": "arq",
            "messaging.operation.type": "process",
            "messaging.destination.name": default_queue_name,
            "messaging.message.id": str(ctx.get("job_id", "")),
            "arq.job.function": name,
            "arq.job.try": int(ctx.get("job_try", 1)),
        }
        with tracer.start_as_current_span(
            f"job {name}", context=parent, kind=SpanKind.CONSUMER, attributes=attributes,
            record_exception=False, set_status_on_exception=False,
        ) as span:  # fmt: skip
            outcome = "failed"
            try:
                result = await run(ctx, *args, **kwargs)
                outcome = "complete"
                return result
            except Retry:
                outcome = "retry"
                raise
            except asyncio.CancelledError:
                outcome = "cancelled"  # arq's job timeout, or the worker stopping
                raise
            except Exception as error:
                span.set_attribute("error.type", type(error).__qualname__)
                span.set_status(Status(StatusCode.ERROR))
                raise
            finally:
                span.set_attribute("arq.job.outcome", outcome)

    return untraced if tracer is None else traced
