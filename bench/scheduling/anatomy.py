"""The anatomy scenario: requests one at a time, each kind adding one part of the work
(token, availableSlots from the cache, its fields, a cache miss, a booking), so the
difference between rows prices that part."""

import json
import sys
import time
import uuid
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date

from bench.cpu import CpuMeter, CpuUse
from bench.load import OK, Request
from bench.scheduling.bookings import Bookings
from bench.scheduling.harness import Harness, limited
from bench.scheduling.queries import SLOTS_QUERY, error_outcome, graphql_request

TYPENAME_QUERY = "query Ping { __typename }"
SLOTS_START_QUERY = """query Slots($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt }
}"""
SLOTS_TIMES_QUERY = """query Slots($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt endsAt available }
}"""
BOOK_BARE_MUTATION = """mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id status }
}"""
ANATOMY_READS = 1000
ANATOMY_BOOKINGS = 300


@dataclass(frozen=True, slots=True)
class Step:
    what: str
    requests: int
    cpu: CpuUse
    mean_ms: float
    compared_with: int | None  # index of the step this one adds to

    def ms(self, seconds: float) -> float:
        return seconds / self.requests * 1e3


@dataclass
class AnatomyReport:
    steps: list[Step] = field(default_factory=list)

    def markdown(self) -> str:
        lines = [
            "### Anatomy of a request (one at a time, no concurrency)",
            "",
            "| request | API CPU ms/req | added to the row it builds on | PostgreSQL CPU ms/req "
            "| Redis CPU ms/req | mean latency ms |",
            "|---|---:|---:|---:|---:|---:|",
        ]
        for step in self.steps:
            api = step.ms(step.cpu.api)
            if step.compared_with is None:
                added = ""
            else:
                base = self.steps[step.compared_with]
                added = f"{api - base.ms(base.cpu.api):+.2f} (vs row {step.compared_with + 1})"
            lines.append(
                f"| {len(lines) - 3}. {step.what} | {api:.2f} | {added} "
                f"| {step.ms(step.cpu.postgres):.2f} | {step.ms(step.cpu.redis):.2f} "
                f"| {step.mean_ms:.2f} |"
            )
        lines += [
            "",
            f"- {ANATOMY_READS} requests per read row, {ANATOMY_BOOKINGS} per booking row, "
            "sent one after another after a short warm-up; CPU from /proc.",
        ]
        return "\n".join(lines)

    def profiles(self) -> str:
        return ""


async def sequential(
    harness: Harness, what: str, requests: Sequence[Request], compared_with: int | None
) -> Step:
    """Send ``requests`` one at a time (the first 20 untimed); all must succeed."""
    warmup, timed = requests[:20], requests[20:]
    for request in warmup:
        await harness.expect_ok(request)
    before = harness.meter.snapshot()
    total = 0.0
    for request in timed:
        started = time.perf_counter()
        status, body = await harness.post(request)
        total += time.perf_counter() - started
        if error_outcome(status, body) != OK:
            raise RuntimeError(f"{what}: {error_outcome(status, body)}")
    cpu = CpuMeter.between(before, harness.meter.snapshot())
    step = Step(what, len(timed), cpu, total / len(timed) * 1e3, compared_with)
    print(f"  {what}: API CPU {step.ms(cpu.api):.2f} ms/req", file=sys.stderr)
    return step


async def anatomy(harness: Harness, bookings: Bookings) -> AnatomyReport:
    report = AnatomyReport()
    token = harness.browsing_tokens(1)[0]
    reads = ANATOMY_READS + 20
    anonymous = Request(
        json.dumps({"query": TYPENAME_QUERY}).encode(), {"Content-Type": "application/json"}
    )
    signed_in = graphql_request(TYPENAME_QUERY, {}, token)
    pairs = harness.fixture.doctor_days(harness.rng)
    warm, fresh = pairs[:200], pairs[200 : 200 + reads]

    def slots(query: str, keys: Sequence[tuple[uuid.UUID, date]]) -> list[Request]:
        return [
            graphql_request(query, {"doctorId": str(d), "date": day.isoformat()}, token)
            for d, day in (keys[i % len(keys)] for i in range(reads))
        ]

    await harness.redis.flushdb()
    await limited([harness.expect_ok(r) for r in slots(SLOTS_QUERY, warm)])
    steps = [
        ("`{ __typename }`, no token", [anonymous] * reads, None),
        ("`{ __typename }`, patient token", [signed_in] * reads, 0),
        ("availableSlots hit, `{ startsAt }`", slots(SLOTS_START_QUERY, warm), 1),
        (
            "availableSlots hit, `{ startsAt endsAt available }`",
            slots(SLOTS_TIMES_QUERY, warm),
            2,
        ),
        (
            "availableSlots hit, `{ ... clinic { id } }` (as benchmarked)",
            slots(SLOTS_QUERY, warm),
            3,
        ),
        ("availableSlots miss, same selection", slots(SLOTS_QUERY, fresh), 4),
    ]
    for what, requests, compared_with in steps:
        report.steps.append(await sequential(harness, what, requests, compared_with))
    free = await bookings.free_slots(2 * (ANATOMY_BOOKINGS + 20))
    half = ANATOMY_BOOKINGS + 20
    bare, _ = bookings.requests(free[:half], BOOK_BARE_MUTATION)
    report.steps.append(await sequential(harness, "bookAppointment `{ id status }`", bare, 1))
    full, _ = bookings.requests(free[half : 2 * half])
    what = "bookAppointment `{ id status startsAt }` (as benchmarked)"
    report.steps.append(await sequential(harness, what, full, len(report.steps) - 1))
    return report
