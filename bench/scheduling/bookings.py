"""Bookings: free slots to book (each doctor-day asked for once), one unused patient per
booking, and cancelling every booking the bench's requests made."""

import json
import sys
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta

import asyncpg

from bench.load import OK, Classify, Request
from bench.scheduling.fixture import Patient
from bench.scheduling.harness import Harness, limited
from bench.scheduling.queries import (
    BOOK_MUTATION,
    CANCEL_MUTATION,
    error_outcome,
    graphql_request,
    slots_classify,
)


@dataclass(frozen=True, slots=True)
class FreeSlot:
    doctor_id: str
    clinic_id: str
    starts_at: str  # as availableSlots returned it, with the clinic's UTC offset


@dataclass(frozen=True, slots=True)
class BookingSent:
    patient: Patient
    idempotency_key: str


class Bookings:
    def __init__(self, harness: Harness) -> None:
        self._harness = harness
        self._next_patient = 0
        self._unasked_days = iter(harness.fixture.doctor_days(harness.rng))  # for free slots
        self._free: list[FreeSlot] = []  # collected, not yet booked
        # Every booking sent, answered or not: the clean-up finds them by idempotency key.
        self.sent: list[BookingSent] = []

    def take_patients(self, count: int) -> list[Patient]:
        patients = self._harness.fixture.patients
        start, self._next_patient = self._next_patient, self._next_patient + count
        if self._next_patient > len(patients):
            raise RuntimeError(f"more than {len(patients):,} bookings requested")
        return patients[start : self._next_patient]

    async def free_slots(self, count: int) -> list[FreeSlot]:
        """``count`` free future slots, from availableSlots (untimed). Each doctor-day is
        asked for once in the bench's life, so no slot is handed out twice."""
        if len(self._free) < count:
            print(f"  collecting {count - len(self._free):,} free slots ...", file=sys.stderr)
            self._free += await self._collect_free_slots(count - len(self._free))
        if len(self._free) < count:
            raise RuntimeError(f"only {len(self._free):,} free slots found, {count:,} needed")
        chosen, self._free = self._free[:count], self._free[count:]
        return chosen

    async def collect_ahead(self, count: int) -> None:
        """Have ``count`` free slots at hand, so rows need not collect them first."""
        self._free = await self.free_slots(count)

    async def _collect_free_slots(self, count: int) -> list[FreeSlot]:
        harness = self._harness
        found: list[FreeSlot] = []
        token = harness.browsing_tokens(1)[0]
        not_before = datetime.now(UTC) + timedelta(hours=2)
        pairs = self._unasked_days

        async def fetch(doctor: uuid.UUID, day: date) -> None:
            status, body = await harness.post(harness.slots_request(doctor, day, token))
            if error_outcome(status, body) != OK:
                raise RuntimeError(f"availableSlots failed: {error_outcome(status, body)}")
            for slot in json.loads(body)["data"]["availableSlots"]:
                starts = datetime.fromisoformat(slot["startsAt"])
                if slot["available"] and starts > not_before:
                    found.append(FreeSlot(str(doctor), slot["clinic"]["id"], slot["startsAt"]))

        while len(found) < count:
            batch = [pair for pair in (next(pairs, None) for _ in range(128)) if pair is not None]
            if not batch:
                break
            await limited([fetch(*pair) for pair in batch])
        harness.rng.shuffle(found)
        return found

    async def look_at_days(self, slots: Sequence[FreeSlot]) -> None:
        """Each slot's day through availableSlots (untimed), as a patient sees it before
        booking: the booking then finds the day in the slot cache."""
        harness = self._harness
        token = harness.browsing_tokens(1)[0]
        days = {
            (uuid.UUID(slot.doctor_id), datetime.fromisoformat(slot.starts_at).date())
            for slot in slots
        }
        await limited([harness.expect_ok(harness.slots_request(*day, token)) for day in days])

    def requests(
        self, slots: Sequence[FreeSlot], mutation: str = BOOK_MUTATION
    ) -> tuple[list[Request], Classify]:
        """One booking per slot, each by the next unused patient with a fresh key."""
        patients = self.take_patients(len(slots))
        requests: list[Request] = []
        for slot, patient in zip(slots, patients, strict=True):
            key = uuid.uuid4().hex
            self.sent.append(BookingSent(patient, key))
            booking = {
                "doctorId": slot.doctor_id,
                "clinicId": slot.clinic_id,
                "startsAt": slot.starts_at,
                "idempotencyKey": key,
            }
            token = self._harness.token(patient)
            requests.append(graphql_request(mutation, {"input": booking}, token))
        return requests, slots_classify

    async def cancel_all(self) -> tuple[int, int]:
        """Cancel, through cancelAppointment, every booking the bench's requests made,
        answered or not (found by idempotency key). Untimed. (cancelled, found)"""
        harness = self._harness
        by_user = {sent.patient.user_id: sent.patient for sent in self.sent}
        connection = await asyncpg.connect(harness.options.database_url)
        try:
            rows = await connection.fetch(
                "SELECT a.id, a.booked_by_user_id FROM appointments a"
                " JOIN unnest($1::uuid[], $2::text[]) AS s(user_id, key)"
                " ON a.booked_by_user_id = s.user_id AND a.idempotency_key = s.key"
                " WHERE a.status = 'SCHEDULED'",
                [sent.patient.user_id for sent in self.sent],
                [sent.idempotency_key for sent in self.sent],
            )
        finally:
            await connection.close()
        cancelled = 0

        async def cancel(appointment_id: uuid.UUID, patient: Patient) -> None:
            nonlocal cancelled
            variables = {"id": str(appointment_id)}
            request = graphql_request(CANCEL_MUTATION, variables, harness.token(patient))
            status, body = await harness.post(request)
            if error_outcome(status, body) == OK:
                cancelled += 1

        await limited([cancel(row["id"], by_user[row["booked_by_user_id"]]) for row in rows])
        return cancelled, len(rows)
