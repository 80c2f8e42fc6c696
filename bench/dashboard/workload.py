"""The mixed load: people browsing slots, patients booking and reading their records,
and the mistakes and abuse a public API gets: bad input, a client polling past its
budget, a password guesser. Open loop: each kind sends at its rate, times the
multiplier of the moment, whatever the answers."""

import asyncio
import json
import random
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Any

import aiohttp

from bench.dashboard.world import DOCTOR_IDS, PATIENTS

SLOTS = """query Slots($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt available clinic { id } } }"""
BOOK = """mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id status } }"""
RECORDS = """query Records($id: ID!) {
  patient(id: $id) { records(first: 10) { edges { node { id title documentUrl } } } } }"""
LOGIN = """mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken } }"""


@dataclass(frozen=True)
class Phase:
    starts_s: float
    multiplier: float


@dataclass
class Tally:
    """Answers by (operation, code) as the clients saw them, to compare with /metrics."""

    answers: Counter[tuple[str, str]] = field(default_factory=Counter)
    unanswered: int = 0


class Workload:
    def __init__(
        self,
        http: aiohttp.ClientSession,
        url: str,
        tokens: Sequence[str],
        phases: Sequence[Phase],
        seed: int = 14,
    ) -> None:
        self.http = http
        self.url = url
        self.greedy_token, *self.tokens = tokens  # the first patient polls past its budget
        self.phases = phases
        self.rng = random.Random(seed)  # noqa: S311 - reproducible choices, no secrets
        self.tally = Tally()
        self.tasks: set[asyncio.Task[None]] = set()
        self.days = weekdays_ahead(datetime.now(UTC).date(), 21)

    def multiplier(self, elapsed: float) -> float:
        return [phase.multiplier for phase in self.phases if phase.starts_s <= elapsed][-1]

    async def run(self, duration_s: float) -> Tally:
        kinds: list[tuple[float, Callable[[], Any]]] = [
            (6.0, self.browse),
            (0.7, self.book),
            (2.0, self.read_records),
            (2.0, self.poll_greedily),
            (0.5, self.send_bad_input),
            (1.0, self.guess_password),
        ]
        began = time.monotonic()
        await asyncio.gather(
            *(self._at_rate(rate, send, began, duration_s) for rate, send in kinds)
        )
        if self.tasks:
            await asyncio.wait(self.tasks)
        return self.tally

    async def _at_rate(
        self, rate: float, send: Callable[[], Any], began: float, duration_s: float
    ) -> None:
        due = began
        while (now := time.monotonic()) < began + duration_s:
            due += 1 / (rate * self.multiplier(now - began))
            await asyncio.sleep(max(0.0, due - now))
            task = asyncio.create_task(send())
            self.tasks.add(task)
            task.add_done_callback(self.tasks.discard)

    async def post(
        self, operation: str, query: str, variables: dict[str, Any], token: str | None = None
    ) -> dict[str, Any]:
        headers = {"Content-Type": "application/json"}
        if token is not None:
            headers["Authorization"] = f"Bearer {token}"
        body = json.dumps({"query": query, "variables": variables})
        try:
            async with self.http.post(self.url, data=body, headers=headers) as response:
                answer: dict[str, Any] = json.loads(await response.read())
        except (aiohttp.ClientError, TimeoutError, ValueError):
            self.tally.unanswered += 1
            return {}
        errors = answer.get("errors") or []
        code = str((errors[0].get("extensions") or {}).get("code")) if errors else "OK"
        self.tally.answers[operation, code] += 1
        return answer

    def _day(self) -> str:
        return self.rng.choice(self.days).isoformat()

    async def browse(self) -> None:
        variables = {"doctorId": self.rng.choice(DOCTOR_IDS), "date": self._day()}
        await self.post("Slots", SLOTS, variables)

    async def book(self) -> None:
        token = self.rng.choice(self.tokens)
        doctor = self.rng.choice(DOCTOR_IDS)
        answer = await self.post("Slots", SLOTS, {"doctorId": doctor, "date": self._day()}, token)
        free = [s for s in (answer.get("data") or {}).get("availableSlots", []) if s["available"]]
        if free:
            slot = self.rng.choice(free[:6])  # the morning's first: bookings collide at times
            booking = {
                "doctorId": doctor,
                "clinicId": slot["clinic"]["id"],
                "startsAt": slot["startsAt"],
            }
            await self.post("Book", BOOK, {"input": booking}, token)

    async def read_records(self) -> None:
        index = self.rng.randrange(len(self.tokens))
        patient = PATIENTS[index + 1]
        await self.post("Records", RECORDS, {"id": str(patient.id)}, self.tokens[index])

    async def poll_greedily(self) -> None:
        await self.post("Records", RECORDS, {"id": str(PATIENTS[0].id)}, self.greedy_token)

    async def send_bad_input(self) -> None:
        await self.post("Slots", SLOTS, {"doctorId": "not-an-id", "date": self._day()})

    async def guess_password(self) -> None:
        guess = f"guess-{self.rng.randrange(10**9)}"
        await self.post("Login", LOGIN, {"email": PATIENTS[1].email, "password": guess})


def weekdays_ahead(today: date, days: int) -> list[date]:
    ahead = (today + timedelta(days=n) for n in range(1, days + 1))
    return [day for day in ahead if day.isoweekday() <= 5]
