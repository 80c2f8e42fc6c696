"""``python -m bench.execution --embedded DIR``: the records query of :mod:`bench.records`
in process, through the fast executor and graphql-core's own, CPU per request and where
it goes.

It starts PostgreSQL, Redis and S3 under DIR, seeds the bench's patient (50 records from
3 doctors), opens the product's services and runs the query as the patient, the two
executors taking turns, one request at a time: what a request costs the API process
past HTTP (context, door, execution, loaders, ORM, audit row flush), in CPU seconds of
this process (``time.process_time``), so other processes on the machine do not count.
Then each executor again under cProfile, the time grouped by where the functions live.
"""

import argparse
import cProfile
import dataclasses
import pstats
import statistics
import tempfile
import time
import uuid
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import uvloop
from starlette.requests import Request
from strawberry import Schema

from bench.records.database import database_url, recreate_database, seed
from bench.records.query import QUERY
from db.enums import Role
from db.migrate import upgrade_async
from devtools.embedded import EmbeddedStack
from medappt.asgi import tune_garbage_collector
from schema import build_schema
from schema.context import build_context
from services.container import Services, open_services
from services.rate_limits.budgets import RateLimits
from services.settings import load_settings
from services.storage import ensure_bucket, s3_client

DATABASE = "medappt_bench_execution"
BUCKET = "medappt-bench-execution"

# First match wins: (label, substring of the function's file).
GROUPS: tuple[tuple[str, str], ...] = (
    ("fast executor (schema/fast_executor/)", "schema/fast_executor/"),
    ("graphql-core execution", "graphql/execution/"),
    ("graphql-core scalars, errors, other", "graphql/"),
    ("Strawberry (resolver wrappers, Info, arguments, extensions)", "strawberry/"),
    ("SQLAlchemy", "sqlalchemy/"),
    ("asyncpg", "asyncpg/"),
    ("DataLoader (aiodataloader)", "aiodataloader"),
    ("redis-py", "redis/"),
    ("botocore (document links)", "botocore/"),
    ("token check (joserfc, cryptography)", "joserfc/"),
    ("token check (joserfc, cryptography)", "cryptography/"),
    ("asyncio / uvloop", "asyncio/"),
    ("asyncio / uvloop", "uvloop/"),
    ("medappt: schema types and resolvers", "/schema/"),
    ("medappt: loaders", "/loaders/"),
    ("medappt: domain", "/domain/"),
    ("medappt: services", "/services/"),
)


@dataclasses.dataclass
class Bench:
    services: Services
    schemas: dict[str, Schema]
    token: str
    variables: dict[str, Any]
    runs: int = 0

    async def request(self, executor: str) -> None:
        self.runs += 1
        scope = {"type": "http", "method": "POST", "path": "/graphql", "query_string": b"",
                 "headers": [(b"authorization", f"Bearer {self.token}".encode())],
                 "client": ("127.0.0.1", 40000)}  # fmt: skip
        context = await build_context(
            Request(scope), self.services, f"bench-{self.runs}", f"Bearer {self.token}"
        )
        result = await self.schemas[executor].execute(
            QUERY, variable_values=self.variables, context_value=context
        )
        if result.errors or result.data is None:
            raise RuntimeError(f"{executor}: {result.errors}")


async def _timed(bench: Bench, executor: str) -> float:
    start = time.process_time()
    await bench.request(executor)
    return time.process_time() - start


def _groups(profile: cProfile.Profile, requests: int) -> list[tuple[str, float]]:
    stats = pstats.Stats(profile)
    totals: dict[str, float] = {}
    for (filename, _, _), (_, _, tottime, _, _) in stats.stats.items():  # type: ignore[attr-defined]
        label = next((label for label, part in GROUPS if part in filename), "other")
        totals[label] = totals.get(label, 0.0) + tottime
    rows = sorted(totals.items(), key=lambda item: -item[1])
    return [(label, seconds / requests * 1e3) for label, seconds in rows]


async def run(root: Path, requests: int, rounds: int) -> None:
    with EmbeddedStack(root, postgres=True, redis=True, s3=True, durable=True) as servers:
        assert servers.database_url is not None
        assert servers.redis_url is not None
        assert servers.s3_endpoint_url is not None
        admin = servers.database_url.replace("postgresql+asyncpg://", "postgresql://")
        await recreate_database(admin, DATABASE)
        url = database_url(admin, DATABASE)
        await upgrade_async(url)
        fixture = await seed(url)
        with tempfile.TemporaryDirectory(prefix="medappt-bench-execution-") as data_dir:
            settings = load_settings(
                {"S3_BUCKET": BUCKET, "MEDAPPT_DATA_DIR": data_dir}
            ).with_servers(
                database_url=url,
                redis_url=servers.redis_url,
                s3_endpoint_url=servers.s3_endpoint_url,
            )
            settings = dataclasses.replace(settings, rate_limits=RateLimits(enabled=False))
            async with s3_client(settings) as s3:
                await ensure_bucket(s3, BUCKET)
            async with open_services(settings) as services:
                token, _ = services.tokens.issue_access(
                    user_id=fixture.user_id, role=Role.PATIENT, family_id=uuid.uuid4(),
                    patient_id=fixture.patient_id,
                )  # fmt: skip
                bench = Bench(
                    services,
                    {name: build_schema(executor=name) for name in ("fast", "standard")},
                    token,
                    {"id": str(fixture.patient_id)},
                )
                await _measure(bench, requests, rounds)


async def _measure(bench: Bench, requests: int, rounds: int) -> None:
    for executor in ("fast", "standard"):  # warm: caches, links, plans of the ORM
        for _ in range(50):
            await bench.request(executor)
    tune_garbage_collector()  # as `medappt serve` does
    samples: dict[str, list[float]] = {"fast": [], "standard": []}
    for _ in range(rounds):
        for executor in ("fast", "standard"):
            batch = [await _timed(bench, executor) for _ in range(requests)]
            samples[executor].append(statistics.fmean(batch) * 1e3)
    print("| executor | CPU ms per request (median of rounds) | best round |")
    print("|---|---:|---:|")
    for executor, means in samples.items():
        print(f"| {executor} | {statistics.median(means):.2f} | {min(means):.2f} |")
    for executor in ("fast", "standard"):
        profile = cProfile.Profile(time.process_time)
        profile.enable()
        for _ in range(requests):
            await bench.request(executor)
        profile.disable()
        print(f"\n{executor}, under cProfile (CPU ms per request; cProfile slows calls):\n")
        print("| where | ms |")
        print("|---|---:|")
        for label, ms in _groups(profile, requests):
            print(f"| {label} | {ms:.2f} |")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.execution", description=__doc__)
    parser.add_argument("--embedded", type=Path, required=True, metavar="DIR")
    parser.add_argument("--requests", type=int, default=50, help="per round and executor")
    parser.add_argument("--rounds", type=int, default=21)
    args = parser.parse_args(argv)
    uvloop.run(run(args.embedded, args.requests, args.rounds))


if __name__ == "__main__":
    main()
