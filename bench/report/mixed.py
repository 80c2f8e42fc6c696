"""The mixed workload: the three kinds of user at once, in the proportions of a clinic day.

Of every 20 requests: 10 patients looking at a doctor's day (most of them cached), 3
bookings, 1 cancellation, 3 doctors reading a patient's records, 1 doctor reading their
week, 1 admin reading a doctor's week and 1 admin reading the clinic report of a week.
"""

import json
import uuid
from collections.abc import Iterable, Iterator
from datetime import timedelta

from bench.load import OK, Classify, Request
from bench.report.fixture import People
from bench.report.records import RECORDS_QUERY
from bench.scheduling.bookings import Bookings
from bench.scheduling.harness import Harness, limited
from bench.scheduling.options import Load
from bench.scheduling.queries import CANCEL_MUTATION, error_outcome, graphql_request
from bench.scheduling.reports import Report, Target
from db.enums import Role

SCHEDULE_QUERY = """query Week($doctorId: ID!, $from: Date!, $to: Date!) {
  schedule(doctorId: $doctorId, from: $from, to: $to) { id startsAt status patient { name } }
}"""
REPORT_QUERY = """query Report($from: Date!, $to: Date!) {
  clinicReport(from: $from, to: $to) { doctor { name } scheduled cancelled utilization }
}"""
# One cycle of 20: (kind, count).
MIX = (
    ("slots", 10),
    ("book", 3),
    ("cancel", 1),
    ("records", 3),
    ("doctor week", 1),
    ("admin week", 1),
    ("admin report", 1),
)
CYCLE = sum(count for _, count in MIX)


def _token(
    harness: Harness, user_id: uuid.UUID, role: Role, doctor_id: uuid.UUID | None = None
) -> str:
    token, _ = harness.server.tokens.issue_access(
        user_id=user_id, role=role, family_id=uuid.uuid4(), doctor_id=doctor_id
    )
    return token


async def mixed(
    harness: Harness, bookings: Bookings, people: People, loads: Iterable[Load]
) -> Report:
    report = Report(
        "Mixed workload: patients, doctors and admins together",
        Target(p99_ms=100.0),
        [("ok", OK)],
    )
    fixture = harness.fixture
    pairs = fixture.doctor_days(harness.rng)
    warm = pairs[:500]
    browsing = harness.browsing_tokens()
    doctor_token = _token(harness, people.doctor_user, Role.DOCTOR, doctor_id=people.doctor)
    admin_token = _token(harness, people.admin_user, Role.ADMIN)
    monday = fixture.days[0] - timedelta(days=fixture.days[0].weekday())
    week = {"from": monday.isoformat(), "to": (monday + timedelta(days=6)).isoformat()}
    records = graphql_request(RECORDS_QUERY, {"id": str(people.records_patient)}, doctor_token)
    offset = 0

    def one(n: int, made: dict[str, Iterator[Request]]) -> Request:
        nonlocal offset
        kind = _kind(n % CYCLE)
        if kind == "slots":
            # One in five asks for a day nobody asked for yet (a miss).
            if n % 5 == 0:
                doctor, day = pairs[500 + offset % (len(pairs) - 500)]
                offset += 1
            else:
                doctor, day = warm[n % 500]
            return harness.slots_request(doctor, day, browsing[n % len(browsing)])
        if kind in made:
            return next(made[kind], records)
        if kind == "records":
            return records
        if kind == "admin report":
            return graphql_request(REPORT_QUERY, week, admin_token)
        doctor, token = (
            (people.doctor, doctor_token)
            if kind == "doctor week"
            else (fixture.doctors[n % len(fixture.doctors)], admin_token)
        )
        return graphql_request(SCHEDULE_QUERY, {"doctorId": str(doctor), **week}, token)

    async def prepare(count: int) -> tuple[list[Request], Classify]:
        cycles = -(-count // CYCLE)
        books = await bookings.free_slots(3 * cycles + cycles)
        booking_requests, _ = bookings.requests(books[: 3 * cycles])
        # The bookings the row cancels are made now, untimed.
        to_cancel, _ = bookings.requests(books[3 * cycles :])
        cancels: list[Request] = []

        async def book_then_cancel(request: Request, patient_index: int) -> None:
            status, body = await harness.post(request)
            if error_outcome(status, body) != OK:
                return
            appointment = json.loads(body)["data"]["bookAppointment"]["id"]
            sent = bookings.sent[patient_index]
            token = harness.token(sent.patient)
            cancels.append(graphql_request(CANCEL_MUTATION, {"id": appointment}, token))

        first = len(bookings.sent) - len(to_cancel)
        await limited([book_then_cancel(r, first + i) for i, r in enumerate(to_cancel)])
        await harness.redis.flushdb()
        await limited(
            [harness.expect_ok(harness.slots_request(d, day, browsing[0])) for d, day in warm]
        )
        made = {"book": iter(booking_requests), "cancel": iter(cancels)}
        requests = [one(n, made) for n in range(count)]
        return requests, lambda _, status, body: error_outcome(status, body)

    await harness.run_rows(report, "mixed", loads, prepare)
    report.notes.append(
        "Of every 20 requests: " + ", ".join(f"{n} {kind}" for kind, n in MIX) + "; one slot "
        "read in five is a cache miss. Open-loop latency is over all kinds together."
    )
    return report


def _kind(position: int) -> str:
    for kind, count in MIX:
        if position < count:
            return kind
        position -= count
    raise AssertionError(position)
