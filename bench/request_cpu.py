"""``python -m bench.request_cpu``: what one request costs the API process, past its socket.

The whole ASGI app (the HTTP edge's middlewares, Strawberry's view, the door, execution,
loaders, SQL, the audit rows) runs in this process on the bench database (`medappt
seed-scale`, as ``python -m bench.report`` leaves it) and the machine's Redis, one request
at a time. For each scenario it prints:

- CPU ms per request: CPU seconds of this process (``time.process_time``) over rounds of
  requests, the scenarios taking turns round by round; median and best round. Other
  processes on the machine do not count, as they do in req/s and latency.
- Python calls per request: cProfile's count over one more round. Machine load does not
  move it, so it tells a change of work from the machine's mood: this machine has run
  the same pure-Python loop anywhere from 0.45 s to 2 s from one day to the next.

Scenarios: ``hit`` (availableSlots of a cached doctor-day, as bench.scheduling's hit),
``book`` (bookAppointment of a free slot by a patient, with an idempotency key, its day
looked at first; cancelled afterwards) and ``records`` (a doctor reads the bench patient's
50 records with their links, reused). With ``--py-spy DIR``, five more rounds of each
are recorded by py-spy (raw stacks, ``--native``), one file a scenario: cProfile's times
mislead for coroutines, py-spy's samples do not.
With ``--pstats DIR``, the cProfile round of each scenario is written there (``NAME.pstats``).
With ``--requests N``, each scenario's request is sent N times after the warm-up and
nothing is measured: ``python -m bench.request_instructions`` runs that under callgrind.
"""

import argparse
import asyncio
import cProfile
import itertools
import json
import os
import pstats
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import time
import uuid
from collections.abc import Awaitable, Callable, MutableMapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import orjson
import uvloop
from joserfc.jwk import KeySet
from redis.asyncio import Redis
from starlette.types import ASGIApp

from bench.cpu import yardstick_seconds
from bench.git_commit import short_commit
from bench.records.query import QUERY as RECORDS_QUERY
from bench.report.fixture import People, people, prepare_database
from bench.scheduling.fixture import Fixture, load_fixture
from bench.scheduling.queries import BOOK_MUTATION, CANCEL_MUTATION, SLOTS_QUERY
from db.enums import Role
from services.auth.keys import TokenKeys, generate_signing_key, public_part
from services.auth.tokens import TokenService

DATABASE = "medappt_bench_speed"
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@dataclass(frozen=True, slots=True)
class Result:
    scenario: str
    cpu_ms: list[float]  # per request, one entry a round
    calls: float  # Python calls per request (cProfile)

    def line(self) -> str:
        median = statistics.median(self.cpu_ms)
        return f"| {self.scenario} | {median:.2f} | {min(self.cpu_ms):.2f} | {self.calls:,.0f} |"


class InProcess:
    """The app, called as uvicorn calls it, with what it needs to sign tokens."""

    def __init__(self, app: ASGIApp, state: dict[str, Any], tokens: TokenService) -> None:
        self.app = app
        self.state = state
        self.tokens = tokens

    def token(
        self,
        user_id: uuid.UUID,
        role: Role,
        *,
        patient_id: uuid.UUID | None = None,
        doctor_id: uuid.UUID | None = None,
    ) -> str:
        token, _ = self.tokens.issue_access(
            user_id=user_id,
            role=role,
            family_id=uuid.uuid4(),
            patient_id=patient_id,
            doctor_id=doctor_id,
        )
        return token

    async def send(self, query: str, variables: dict[str, Any], token: str) -> dict[str, Any]:
        body = json.dumps({"query": query, "variables": variables}).encode()
        scope = {
            "type": "http", "asgi": {"version": "3.0", "spec_version": "2.3"},
            "http_version": "1.1", "method": "POST", "scheme": "http", "path": "/graphql",
            "raw_path": b"/graphql", "root_path": "", "query_string": b"",
            "headers": [
                (b"host", b"127.0.0.1:8000"), (b"content-type", b"application/json"),
                (b"authorization", f"Bearer {token}".encode()),
                (b"content-length", str(len(body)).encode()),
            ],
            "client": ("127.0.0.1", 40000), "server": ("127.0.0.1", 8000),
            "state": dict(self.state),
        }  # fmt: skip
        delivered = False
        chunks: list[bytes] = []

        async def receive() -> dict[str, Any]:
            nonlocal delivered
            if delivered:  # the client stays connected
                await asyncio.Event().wait()
            delivered = True
            return {"type": "http.request", "body": body, "more_body": False}

        async def send(message: MutableMapping[str, Any]) -> None:
            if message["type"] == "http.response.body":
                chunks.append(message.get("body", b""))

        await self.app(scope, receive, send)
        # orjson: the bench's own reading of the answer counts as the process's CPU too,
        # and json.loads of a page of 50 records was 7 % of a records request's.
        answer: dict[str, Any] = orjson.loads(b"".join(chunks))
        return answer


def _ok(answer: dict[str, Any]) -> dict[str, Any]:
    if answer.get("errors"):
        raise RuntimeError(f"the bench's request failed: {answer['errors'][0]}")
    data: dict[str, Any] = answer["data"]
    return data


async def _free_slots(
    api: InProcess, fixture: Fixture, token: str, count: int
) -> list[dict[str, str]]:
    """``count`` free slots at least 2 h ahead, their days asked for (and so cached)."""
    not_before = datetime.now(UTC) + timedelta(hours=2)
    found: list[dict[str, str]] = []
    for doctor, day in fixture.doctor_days(random.Random(7)):  # noqa: S311 - no secret
        variables = {"doctorId": str(doctor), "date": day.isoformat()}
        for slot in _ok(await api.send(SLOTS_QUERY, variables, token))["availableSlots"]:
            if slot["available"] and datetime.fromisoformat(slot["startsAt"]) > not_before:
                found.append(
                    {"doctorId": str(doctor), "clinicId": slot["clinic"]["id"],
                     "startsAt": slot["startsAt"]}
                )  # fmt: skip
                break  # one a day: the others stay free for later runs
        if len(found) == count:
            return found
    raise RuntimeError(f"only {len(found)} free slots found")


async def _recorded(path: Path, requests: int, run: Callable[[], Awaitable[None]]) -> None:
    """``requests`` requests with py-spy recording this process (raw stacks, --native)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    spy = await asyncio.create_subprocess_exec(
        *(str(Path(sys.executable).with_name("py-spy")), "record", "--native", "--rate", "100"),
        *("--format", "raw", "--output", str(path), "--pid", str(os.getpid())),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    await asyncio.sleep(1)  # attached
    for _ in range(requests):
        await run()
    spy.send_signal(signal.SIGINT)  # py-spy writes what it recorded, and exits
    await spy.wait()


async def _send_only(scenarios: dict[str, Callable[[], Awaitable[None]]], requests: int) -> None:
    """The warm-up, then ``requests`` of each scenario, timing nothing."""
    for run in scenarios.values():
        for _ in range(20 + requests):
            await run()


async def _measure(
    scenarios: dict[str, Callable[[], Awaitable[None]]],
    rounds: int,
    per_round: int,
    py_spy: Path | None,
    pstats_dir: Path | None,
) -> list[Result]:
    for run in scenarios.values():  # warm: plans, caches, links, prepared statements
        for _ in range(20):
            await run()
    cpu: dict[str, list[float]] = {name: [] for name in scenarios}
    for _ in range(rounds):
        for name, run in scenarios.items():
            started = time.process_time()
            for _ in range(per_round):
                await run()
            cpu[name].append((time.process_time() - started) * 1000 / per_round)
    results = []
    for name, run in scenarios.items():
        profile = cProfile.Profile()
        profile.enable()
        for _ in range(per_round):
            await run()
        profile.disable()
        stats = pstats.Stats(profile)
        if pstats_dir is not None:
            stats.dump_stats(pstats_dir / f"{name}.pstats")
        results.append(Result(name, cpu[name], stats.total_calls / per_round))  # type: ignore[attr-defined]
    if py_spy is not None:
        for name, run in scenarios.items():
            await _recorded(py_spy / f"{name}.txt", 5 * per_round, run)
    return results


async def run(arguments: argparse.Namespace) -> list[Result]:
    database_url = f"postgresql://postgres@127.0.0.1:5432/{arguments.database}"
    await prepare_database(ADMIN_URL, arguments.database, database_url)
    cast: People = await people(database_url)
    redis = Redis.from_url(arguments.redis_url)
    await redis.flushdb()
    fixture = await load_fixture(database_url, redis, random.Random(1))  # noqa: S311
    await redis.aclose()
    signing = generate_signing_key()
    tokens = TokenService(
        TokenKeys(signing=signing, verification=KeySet([public_part(signing)])),
        "medappt",
        "medappt-api",
    )
    data_dir = tempfile.mkdtemp(prefix="medappt-request-cpu-")
    os.environ.update(
        {
            "DATABASE_URL": database_url,
            "REDIS_URL": arguments.redis_url,
            "MEDAPPT_ENV": "dev",
            "MEDAPPT_DATA_DIR": data_dir,
            "MEDAPPT_JWT_PRIVATE_KEY": json.dumps(signing.as_dict(private=True)),
            # As the HTTP benches: one client at rates no client may reach.
            "MEDAPPT_RATE_LIMITS": "off",
            # Links are signed here, never fetched: no S3 server is asked.
            "S3_ENDPOINT_URL": "http://127.0.0.1:9",
            "S3_BUCKET": "medappt-request-cpu",
            "AWS_ACCESS_KEY_ID": "bench",
            "AWS_SECRET_ACCESS_KEY": "bench",
        }
    )
    for name in ("MEDAPPT_JWT_PUBLIC_KEYS", "MEDAPPT_JWT_ISSUER", "MEDAPPT_JWT_AUDIENCE"):
        os.environ.pop(name, None)
    # After the environment: settings and metrics read it at import.
    from medappt.app import create_app  # noqa: PLC0415
    from medappt.asgi import tune_garbage_collector  # noqa: PLC0415
    from services.settings import load_settings  # noqa: PLC0415

    app = create_app(load_settings(os.environ))
    async with app.router.lifespan_context(app) as state:  # type: ignore[attr-defined]
        api = InProcess(app, state, tokens)
        return await _scenarios(api, fixture, cast, arguments, tune_garbage_collector)


async def _scenarios(
    api: InProcess,
    fixture: Fixture,
    cast: People,
    arguments: argparse.Namespace,
    tune_garbage_collector: Callable[[], None],
) -> list[Result]:
    browser = fixture.patients[-1]
    browse_token = api.token(browser.user_id, Role.PATIENT, patient_id=browser.id)
    wanted: Sequence[str] = arguments.scenarios
    runs: dict[str, Callable[[], Awaitable[None]]] = {}
    if "hit" in wanted:
        doctor, day = fixture.doctor_days(random.Random(3))[0]  # noqa: S311
        hit = {"doctorId": str(doctor), "date": day.isoformat()}

        async def slots_hit() -> None:
            _ok(await api.send(SLOTS_QUERY, hit, browse_token))

        runs["hit"] = slots_hit
    booked: list[tuple[str, str]] = []  # (appointment id, the patient's token)
    booking_count = itertools.count()
    if "book" in wanted:
        count = 20 + (
            arguments.requests
            if arguments.requests is not None
            else arguments.per_round * (arguments.rounds + 1 + 5 * bool(arguments.py_spy))
        )
        print(f"collecting {count} free slots ...", file=sys.stderr)
        # Each by a patient of its own, signed in beforehand (signing is not the API's).
        slots = await _free_slots(api, fixture, browse_token, count)
        bookings = iter(
            [
                (
                    {"input": {**slot, "idempotencyKey": uuid.uuid4().hex}},
                    api.token(patient.user_id, Role.PATIENT, patient_id=patient.id),
                )
                for slot, patient in zip(slots, fixture.patients, strict=False)
            ]
        )

        async def book() -> None:
            next(booking_count)
            variables, token = next(bookings)
            answer = await api.send(BOOK_MUTATION, variables, token)
            if answer.get("data") and answer["data"].get("bookAppointment"):
                booked.append((answer["data"]["bookAppointment"]["id"], token))

        runs["book"] = book
    if "records" in wanted:
        doctor_token = api.token(cast.doctor_user, Role.DOCTOR, doctor_id=cast.doctor)
        patient = {"id": str(cast.records_patient)}

        async def records() -> None:
            _ok(await api.send(RECORDS_QUERY, patient, doctor_token))

        runs["records"] = records
    tune_garbage_collector()  # as medappt.asgi does once the app has started
    try:
        if arguments.requests is not None:
            await _send_only(runs, arguments.requests)
            return []
        return await _measure(
            runs, arguments.rounds, arguments.per_round, arguments.py_spy, arguments.pstats
        )
    finally:
        if "book" in runs:
            print(f"booked {len(booked)} of {next(booking_count)}", file=sys.stderr)
        for appointment_id, token in booked:
            await api.send(CANCEL_MUTATION, {"id": appointment_id}, token)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--database", default=DATABASE, help="created and seeded if missing")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/5", help="flushed")
    parser.add_argument("--scenarios", default="hit,book,records")
    parser.add_argument("--rounds", type=int, default=7)
    parser.add_argument("--per-round", type=int, default=100, help="requests a round")
    parser.add_argument(
        "--py-spy", type=Path, help="then record 5 rounds of each scenario with py-spy, here"
    )
    parser.add_argument(
        "--pstats", type=Path, help="write the cProfile round of each scenario here (NAME.pstats)"
    )
    parser.add_argument(
        "--requests", type=int, help="send N requests of each scenario, measure nothing"
    )
    arguments = parser.parse_args()
    arguments.scenarios = arguments.scenarios.split(",")
    if arguments.requests is not None:
        uvloop.run(run(arguments))
        return
    if arguments.pstats is not None:
        arguments.pstats.mkdir(parents=True, exist_ok=True)
    yardstick = yardstick_seconds()
    results = uvloop.run(run(arguments))
    print(
        f"Commit {short_commit() or '?'}; {arguments.rounds} rounds of {arguments.per_round} "
        f"requests; a pure-Python loop of 10 million additions: {yardstick:.2f} s of CPU."
    )
    print("| scenario | CPU ms/request, median | best round | Python calls/request |")
    print("|---|---:|---:|---:|")
    for result in results:
        print(result.line())


if __name__ == "__main__":
    main()
