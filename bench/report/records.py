"""The records query under load, and against the hand-written handler on the same data.

The query is :data:`bench.records.query.QUERY` (a patient's 50 records with their doctor
and link). The rows at offered loads ask as the patient's doctor; the ratio is taken the
way :mod:`bench.records` takes it, as the patient (the hand-written handler lets a patient
read only themself): ``medappt serve`` and :mod:`bench.records.baseline` (token check and
revoked check, one SQL statement, the same link signer), each alone under the same closed
loop, links reused, taking turns.
"""

import os
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.load import OK, Classify, Request, RunStats, client_session, closed_loop, combined
from bench.records.query import QUERY, classify, graphql_request
from bench.records.servers import baseline_spec, running
from bench.report.fixture import People
from bench.scheduling.harness import Harness
from bench.scheduling.options import Load
from bench.scheduling.reports import Report, Target
from db.enums import Role

RECORDS_QUERY = QUERY
RATIO_CONNECTIONS = 16
# Turns each server takes, in the order A B B A A B B A ...: this machine's speed drifts
# by half within minutes, and one run after the other measured the drift as much as the
# servers. Each turn's first part, while its connections open, is not counted.
RATIO_TURNS = 8
TURN_RAMP_S = 0.5


@dataclass(frozen=True, slots=True)
class Ratio:
    product: RunStats  # its turns as one run
    handler: RunStats
    turns: int

    @property
    def value(self) -> float:
        return self.product.achieved_rps / self.handler.achieved_rps


def _patient_request(harness: Harness, patient: uuid.UUID, user_id: uuid.UUID) -> Request:
    token, _ = harness.server.tokens.issue_access(
        user_id=user_id, role=Role.PATIENT, family_id=uuid.uuid4(), patient_id=patient
    )
    return graphql_request(patient, token)


async def records_rows(harness: Harness, people: People, loads: Iterable[Load]) -> Report:
    report = Report(
        "The records query (a doctor reads a patient's 50 records with their links)",
        Target(p99_ms=50.0),
        [("ok", OK)],
    )
    token, _ = harness.server.tokens.issue_access(
        user_id=people.doctor_user, role=Role.DOCTOR, family_id=uuid.uuid4(),
        doctor_id=people.doctor,
    )  # fmt: skip
    request = graphql_request(people.records_patient, token)

    async def prepare(count: int) -> tuple[list[Request], Classify]:
        return [request] * count, classify

    await harness.run_rows(report, "records", loads, prepare)
    report.notes.append(
        "One doctor asks again and again: every link is reused after the first request, "
        "as for a doctor paging through a chart. Each request writes 52 audit rows."
    )
    return report


async def ratio(
    harness: Harness, people: People, environment: dict[str, str], data_dir: Path, seconds: float
) -> Ratio:
    """The product (already running) and the handler, ``seconds`` of each measured, in
    :data:`RATIO_TURNS` turns each, after a warm-up each."""
    request = _patient_request(harness, people.records_patient, people.records_patient_user)
    requests = [request] * round(seconds * 3000)
    warmup = min(3.0, seconds / 4)
    turn_s = seconds / RATIO_TURNS
    async with (
        client_session(RATIO_CONNECTIONS, 10.0) as http,
        running(baseline_spec("full"), {**os.environ, **environment}, data_dir) as handler,
    ):
        urls = (harness.server.graphql_url, handler.graphql_url)

        async def run(url: str, warmup_s: float, duration_s: float) -> RunStats:
            return await closed_loop(
                http, url, requests, classify,
                workers=RATIO_CONNECTIONS, warmup_s=warmup_s, duration_s=duration_s,
            )  # fmt: skip

        for url in urls:
            await run(url, warmup, 0.0)
        turns: tuple[list[RunStats], list[RunStats]] = ([], [])
        for turn in range(RATIO_TURNS):
            order = (0, 1) if turn % 2 == 0 else (1, 0)
            for server in order:
                turns[server].append(await run(urls[server], TURN_RAMP_S, turn_s))
    result = Ratio(combined(turns[0]), combined(turns[1]), RATIO_TURNS)
    print(
        f"  records ratio: {result.product.achieved_rps:,.0f} / "
        f"{result.handler.achieved_rps:,.0f} req/s = {result.value:.2f}; by turn: "
        + " ".join(f"{a.achieved_rps / b.achieved_rps:.2f}" for a, b in zip(*turns, strict=True)),
        file=sys.stderr,
    )
    return result
