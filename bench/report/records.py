"""The records query under load, and against the hand-written handler on the same data.

The query is :data:`bench.records.query.QUERY` (a patient's 50 records with their doctor
and link). The rows at offered loads ask as the patient's doctor; the ratio is taken the
way :mod:`bench.records` takes it, as the patient (the hand-written handler lets a patient
read only themself): ``medappt serve`` and then :mod:`bench.records.baseline` (token check
and revoked check, one SQL statement, the same link signer), each alone under the same
closed loop, links reused.
"""

import os
import sys
import uuid
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from bench.load import OK, Classify, Request, RunStats, client_session, closed_loop
from bench.records.query import QUERY, classify, graphql_request
from bench.records.servers import baseline_spec, running
from bench.report.fixture import People
from bench.scheduling.harness import Harness
from bench.scheduling.options import Load
from bench.scheduling.reports import Report, Target
from db.enums import Role

RECORDS_QUERY = QUERY
RATIO_CONNECTIONS = 16


@dataclass(frozen=True, slots=True)
class Ratio:
    product: RunStats
    handler: RunStats

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
    """The product (already running) and then the handler, each alone, same closed loop."""
    request = _patient_request(harness, people.records_patient, people.records_patient_user)
    requests = [request] * round(seconds * 3000)
    warmup = min(3.0, seconds / 4)
    async with client_session(RATIO_CONNECTIONS, 10.0) as http:
        product = await closed_loop(
            http, harness.server.graphql_url, requests, classify,
            workers=RATIO_CONNECTIONS, warmup_s=warmup, duration_s=seconds,
        )  # fmt: skip
        spec = baseline_spec("full")
        env = {**os.environ, **environment}
        async with running(spec, env, data_dir) as handler_server:
            handler = await closed_loop(
                http, handler_server.graphql_url, requests, classify,
                workers=RATIO_CONNECTIONS, warmup_s=warmup, duration_s=seconds,
            )  # fmt: skip
    result = Ratio(product, handler)
    print(
        f"  records ratio: {product.achieved_rps:,.0f} / {handler.achieved_rps:,.0f} req/s "
        f"= {result.value:.2f}",
        file=sys.stderr,
    )
    return result
