"""What traces cost a request: ``medappt serve`` without OTEL variables, with an OTLP
endpoint but nothing sampled, and with every request sampled and exported.

    .venv/bin/python -m bench.tracing_cost [--requests 2000]

One client, requests one after another (keep-alive), the clinic list of 20 clinics:
the latency each variant adds, and the CPU the server spends a request (which other
work on the machine changes far less than latency), not throughput. The three
servers run side by side and are asked in turn, so that other work on the machine
weighs on each alike. Embedded PostgreSQL and Redis.
"""

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from sqlalchemy import insert

from bench.api_server import ApiServer, running_api
from bench.cpu import process_seconds
from db.engine import create_engine
from db.migrate import upgrade_async
from db.models import Clinic
from devtools.embedded import EmbeddedStack

QUERY = {"query": "query Clinics { clinics { id name timezone } }"}


class _Sink(BaseHTTPRequestHandler):
    """An OTLP/HTTP collector that accepts every export and keeps nothing."""

    def do_POST(self) -> None:
        self.rfile.read(int(self.headers.get("Content-Length", 0)))
        self.send_response(200)
        self.send_header("Content-Type", "application/x-protobuf")
        self.end_headers()

    def log_message(self, format: str, *args: object) -> None:
        return


@contextmanager
def otlp_sink() -> Iterator[str]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _Sink)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_address[1]}"
    finally:
        server.shutdown()


async def _seed(database_url: str) -> None:
    await upgrade_async(database_url)
    engine = create_engine(database_url, pool_size=1)
    async with engine.begin() as connection:
        rows = [{"name": f"Clinic {n}", "timezone": "Europe/Berlin"} for n in range(20)]
        await connection.execute(insert(Clinic), rows)
    await engine.dispose()


@dataclass(frozen=True)
class Measured:
    seconds: list[float]  # each request's latency
    cpu_seconds: float  # the server process's CPU over the measured requests


def _measure(servers: dict[str, ApiServer], requests: int) -> dict[str, Measured]:
    """Each variant's latencies, asked in turn (one request to each, again and again):
    whatever else loads the machine meanwhile, every variant shares it."""
    seconds: dict[str, list[float]] = {name: [] for name in servers}
    with ExitStack() as stack:
        clients = {
            name: stack.enter_context(httpx.Client(base_url=server.url, timeout=30))
            for name, server in servers.items()
        }
        for client in clients.values():
            for _ in range(200):  # warm-up: connections, caches, import-lazy paths
                client.post("/graphql", json=QUERY).raise_for_status()
        cpu_before = {name: process_seconds(server.pid) for name, server in servers.items()}
        for _ in range(requests):
            for name, client in clients.items():
                began = time.perf_counter()
                client.post("/graphql", json=QUERY).raise_for_status()
                seconds[name].append(time.perf_counter() - began)
        return {
            name: Measured(seconds[name], process_seconds(server.pid) - cpu_before[name])
            for name, server in servers.items()
        }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--requests", type=int, default=2000)
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as data, otlp_sink() as sink:
        stack = EmbeddedStack(Path(data), postgres=True, redis=True, s3=False, durable=False)
        with stack:
            assert stack.database_url is not None
            assert stack.redis_url is not None
            asyncio.run(_seed(stack.database_url))
            variants = {
                "no OTEL variables": {},
                "endpoint set, nothing sampled": {
                    "OTEL_EXPORTER_OTLP_ENDPOINT": sink,
                    "OTEL_TRACES_SAMPLER": "always_off",
                },
                "every request sampled and exported": {"OTEL_EXPORTER_OTLP_ENDPOINT": sink},
            }
            with ExitStack() as stack_of_servers:
                servers = {
                    name: stack_of_servers.enter_context(
                        running_api(stack.database_url, stack.redis_url, extra_environment=env)
                    )
                    for name, env in variants.items()
                }
                measured = _measure(servers, args.requests)
            print(f"{'variant':<38} {'median ms':>10} {'p90 ms':>8} {'CPU ms':>7}")
            for name, run in measured.items():
                median = statistics.median(run.seconds) * 1000
                p90 = statistics.quantiles(run.seconds, n=10)[-1] * 1000
                cpu = run.cpu_seconds * 1000 / len(run.seconds)
                print(f"{name:<38} {median:>10.2f} {p90:>8.2f} {cpu:>7.2f}")


if __name__ == "__main__":
    main()
