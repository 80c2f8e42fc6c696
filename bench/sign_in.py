"""What sign-ins cost everyone else: ``python -m bench.sign_in`` (about a minute).

One ``medappt serve --workers 1`` on the machine's PostgreSQL (a database of its own,
created afresh and dropped) and Redis. A cheap query (``{ __typename }``) is sent at a
fixed rate, first alone, then while ``--workers`` clients sign in back to back (argon2,
tens of milliseconds of CPU each, on purpose). Prints the sign-ins a second and the cheap
query's latency in both runs.
"""

import argparse
import asyncio
import json

import uvloop

from bench.api_server import running_api
from bench.load import OK, Request, RunStats, client_session, closed_loop, open_loop
from bench.records.database import database_url, drop_database, recreate_database
from bench.scheduling.queries import slots_classify as classify
from db.engine import create_engine, session_factory
from db.enums import Role
from db.migrate import upgrade_async
from domain.users import create_user

DATABASE = "medappt_bench_sign_in"
PASSWORD = "a bench passphrase"
PATIENTS = 8
JSON = {"content-type": "application/json"}
LOGIN = "mutation L($e: String!, $p: String!) { login(email: $e, password: $p) { accessToken } }"


async def _seed(url: str) -> list[str]:
    engine = create_engine(url)
    emails = [f"bench.signin{n}@example.test" for n in range(PATIENTS)]
    try:
        async with session_factory(engine).begin() as session:
            for n, email in enumerate(emails):
                await create_user(
                    session, email=email, password=PASSWORD, role=Role.PATIENT, name=f"Pat {n}"
                )
    finally:
        await engine.dispose()
    return emails


def _row(name: str, stats: RunStats) -> str:
    failed = stats.samples - stats.count(OK)
    return (
        f"| {name} | {stats.load} | {stats.achieved_rps:.0f} | {stats.percentile(0.5):.1f} "
        f"| {stats.percentile(0.99):.1f} | {failed} |"
    )


async def _measure(graphql_url: str, emails: list[str], args: argparse.Namespace) -> list[str]:
    logins = [
        Request(json.dumps({"query": LOGIN, "variables": {"e": e, "p": PASSWORD}}).encode(), JSON)
        for e in emails
    ] * 2000
    probe = Request(json.dumps({"query": "{ __typename }"}).encode(), JSON)
    probes = [probe] * round(args.rate * (args.duration + 2) + 10)
    timing = {"warmup_s": 1.0, "duration_s": args.duration}
    async with client_session(64, 30) as http:
        alone = await open_loop(http, graphql_url, probes, classify, rate=args.rate, **timing)
        signing_in, beside = await asyncio.gather(
            closed_loop(http, graphql_url, logins, classify, workers=args.workers, **timing),
            open_loop(http, graphql_url, probes, classify, rate=args.rate, **timing),
        )
    return [
        _row("`{ __typename }` alone", alone),
        _row("`{ __typename }` during sign-ins", beside),
        _row("`login`", signing_in),
    ]


async def _main(args: argparse.Namespace) -> None:
    url = database_url(args.database_url, DATABASE)
    await recreate_database(args.database_url, DATABASE)
    try:
        await upgrade_async(url)
        emails = await _seed(url)
        with running_api(url, args.redis_url) as api:
            rows = await _measure(api.graphql_url, emails, args)
    finally:
        await drop_database(args.database_url, DATABASE)
    print("| request | load | answered/s | p50 ms | p99 ms | not OK |")
    print("|---|---|---:|---:|---:|---:|")
    print("\n".join(rows))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--database-url", default="postgresql://postgres@127.0.0.1:5432/postgres")
    parser.add_argument("--redis-url", default="redis://127.0.0.1:6379/6")
    parser.add_argument("--rate", type=float, default=50.0, help="cheap queries a second")
    parser.add_argument("--workers", type=int, default=4, help="clients signing in")
    parser.add_argument("--duration", type=float, default=8.0, help="measured seconds a run")
    uvloop.run(_main(parser.parse_args()))


if __name__ == "__main__":
    main()
