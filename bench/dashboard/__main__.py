"""``python -m bench.dashboard [--duration 150] [--out docs/dashboard.png]``."""

import argparse
import asyncio
import json
import os
import signal
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import aiohttp

from bench.api_server import running_api
from bench.dashboard.promql import Scrapes, compile_expr, references
from bench.dashboard.render import draw
from bench.dashboard.scraper import scrape_every_second
from bench.dashboard.workload import Phase, Workload
from bench.dashboard.world import PATIENTS, patient_token, seed
from bench.load import client_session
from devtools.embedded.postgres import EmbeddedPostgres
from devtools.embedded.process import free_port
from devtools.embedded.redis import EmbeddedRedis
from devtools.embedded.s3 import EmbeddedS3

ROOT = Path(__file__).resolve().parents[2]
DASHBOARD = ROOT / "docs" / "grafana-dashboard.json"
RATE_WINDOW_S = 15.0  # Grafana's $__rate_interval for a 1 s scrape is 4 scrapes; a bit more smooths
REDIS_PAUSE_S = 10.0
# One patient polls its records past this budget (RATE_LIMITED); everyone else stays under.
RATE_LIMITS = "user=4000/60s"


def phases(duration_s: float) -> list[Phase]:
    """Calm, busier, busiest, calm again: the load's multiplier over the run."""
    return [
        Phase(0, 1.0),
        Phase(duration_s * 0.2, 1.5),
        Phase(duration_s * 0.4, 2.0),
        Phase(duration_s * 0.6, 1.0),
    ]


@contextmanager
def running_worker(environment: dict[str, str], metrics_port: int, log: Path) -> Iterator[None]:
    command = [sys.executable, "-m", "medappt", "worker", "--metrics-port", str(metrics_port)]
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: S603 - our own command, no shell
            command, env=environment, stdout=output, stderr=subprocess.STDOUT
        )
    try:
        yield
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            process.wait(15)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


async def until_answers(http: aiohttp.ClientSession, url: str, deadline_s: float = 60) -> None:
    deadline = time.monotonic() + deadline_s
    while time.monotonic() < deadline:
        try:
            async with http.get(url) as response:
                if response.status == 200:
                    return
        except aiohttp.ClientError:
            pass
        await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} did not answer within {deadline_s:.0f} s")


async def pause_redis(redis_pid: int, at_s: float, began: float) -> tuple[float, float]:
    """SIGSTOP Redis (its socket open and silent, as a hung server) for REDIS_PAUSE_S."""
    await asyncio.sleep(max(0.0, began + at_s - time.monotonic()))
    stopped = time.monotonic() - began
    os.kill(redis_pid, signal.SIGSTOP)
    try:
        await asyncio.sleep(REDIS_PAUSE_S)
    finally:
        os.kill(redis_pid, signal.SIGCONT)
    return stopped, time.monotonic() - began


async def measure(
    api_url: str, worker_url: str, tokens: list[str], duration_s: float, redis_pid: int
) -> tuple[Scrapes, list[float], tuple[float, float], Counter[tuple[str, str]], int]:
    scrapes = Scrapes()
    # The scraper has connections of its own: a load queueing for the client's must not
    # delay the scrapes.
    async with client_session(64, 30) as http, client_session(2, 2) as scraper:
        await until_answers(http, worker_url)
        began = time.monotonic()
        stop = asyncio.Event()
        targets = {"api": f"{api_url}/metrics", "worker": worker_url}
        scraping = asyncio.create_task(scrape_every_second(scraper, targets, scrapes, began, stop))
        workload = Workload(http, f"{api_url}/graphql", tokens, phases(duration_s))
        pause = asyncio.create_task(pause_redis(redis_pid, duration_s * 0.75, began))
        tally = await workload.run(duration_s)
        outage = await pause
        await asyncio.sleep(10)  # the worker drains its queue; the last rates settle
        stop.set()
        failed = await scraping
    times = sorted({t for ts, _ in scrapes.series.values() for t in ts})
    print(f"{len(times)} scrape rounds, {failed} scrapes unanswered", file=sys.stderr)
    return scrapes, times, outage, tally.answers, tally.unanswered


def check_queries(dashboard: dict[str, object], scrapes: Scrapes) -> list[str]:
    """Every series name and label the dashboard's queries use, against the scrapes."""
    names = {dict(labels)["__name__"] for labels in scrapes.series}
    labels = {name for series in scrapes.series for name, _ in series}
    problems = []
    for panel in dashboard["panels"]:  # type: ignore[attr-defined]
        for target in panel["targets"]:
            used_names, used_labels = references(target["expr"])
            missing = (used_names - names) | (used_labels - labels)
            if missing:
                problems.append(f"{panel['title']}: {sorted(missing)} not in any scrape")
    return problems


def counted(scrapes: Scrapes) -> Counter[tuple[str, str]]:
    final = compile_expr("sum by (operation, code) (medappt_graphql_requests_total)")
    last = max(t for ts, _ in scrapes.series.values() for t in ts)
    return Counter(
        {
            (dict(labels)["operation"], dict(labels)["code"]): int(value)
            for labels, value in final(scrapes, last, RATE_WINDOW_S).items()
        }
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--duration", type=float, default=150.0, help="seconds of load")
    parser.add_argument("--out", type=Path, default=ROOT / "docs" / "dashboard.png")
    args = parser.parse_args()
    dashboard = json.loads(DASHBOARD.read_text())
    with tempfile.TemporaryDirectory(prefix="medappt-dashboard-") as data:
        postgres = EmbeddedPostgres(Path(data) / "postgres", False)
        redis = EmbeddedRedis(Path(data) / "redis", False)
        s3 = EmbeddedS3(Path(data) / "s3")
        for server in (postgres, redis, s3):
            server.start()
        try:
            environment = {
                **os.environ,
                "MEDAPPT_ENV": "dev",
                "DATABASE_URL": postgres.url,
                "REDIS_URL": redis.url,
                "S3_ENDPOINT_URL": s3.url,
                "S3_BUCKET": "medappt-dashboard",
                "AWS_ACCESS_KEY_ID": "medappt-dev",  # any key: the S3 is moto's
                "AWS_SECRET_ACCESS_KEY": "medappt-dev",
                "MEDAPPT_DATA_DIR": data,
            }
            asyncio.run(seed(environment))
            api_environment = {
                name: environment[name]
                for name in (
                    "S3_ENDPOINT_URL",
                    "S3_BUCKET",
                    "AWS_ACCESS_KEY_ID",
                    "AWS_SECRET_ACCESS_KEY",
                )
            } | {"MEDAPPT_RATE_LIMITS": RATE_LIMITS}
            metrics_port = free_port()
            with (
                running_api(
                    postgres.url, redis.url, workers=2, extra_environment=api_environment
                ) as api,
                running_worker(environment, metrics_port, Path(data) / "worker.log"),
            ):
                tokens = [patient_token(api.tokens, patient) for patient in PATIENTS]
                scrapes, times, outage, answers, unanswered = asyncio.run(
                    measure(
                        api.url,
                        f"http://127.0.0.1:{metrics_port}/metrics",
                        tokens,
                        args.duration,
                        redis.pid,
                    )
                )
                # The machine's 5-minute load average, this run's processes included.
                load_average = os.getloadavg()[1]
        finally:
            for server in (s3, redis, postgres):
                server.stop()

    for problem in check_queries(dashboard, scrapes):
        print(f"dashboard query: {problem}", file=sys.stderr)
    scraped = counted(scrapes)
    print(f"{'operation':<10} {'code':<22} {'clients saw':>11} {'/metrics':>9}")
    for key in sorted(answers.keys() | scraped.keys()):
        print(f"{key[0]:<10} {key[1]:<22} {answers[key]:>11} {scraped[key]:>9}")
    print(f"unanswered: {unanswered}")
    shown = [t for t in times if t >= RATE_WINDOW_S]
    title = (
        f"medappt: docs/grafana-dashboard.json over a {args.duration:.0f} s mixed load on "
        "`serve --workers 2` + `worker` (python -m bench.dashboard)\nscraped every second, "
        f"rate windows {RATE_WINDOW_S:.0f} s; 2 cores shared with other work: 5-minute load "
        f"average {load_average:.1f} at the end"
    )
    steps = [(p.starts_s, f"load x{p.multiplier:g}") for p in phases(args.duration) if p.starts_s]
    marks = [(*outage, "Redis paused")]
    draw(
        dashboard,
        scrapes,
        shown,
        RATE_WINDOW_S,
        marks=marks,
        steps=steps,
        title=title,
        path=args.out,
    )
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
