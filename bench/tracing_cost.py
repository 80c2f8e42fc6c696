"""What traces cost a request: ``medappt serve`` without OTEL variables, with an OTLP
endpoint but nothing sampled, and with every request sampled and exported.

    .venv/bin/python -m bench.tracing_cost [--requests 2000]

One client, requests one after another (keep-alive), the clinic list of 20 clinics:
the latency each variant adds, not throughput. Embedded PostgreSQL and Redis.
"""

import argparse
import asyncio
import statistics
import tempfile
import threading
import time
from collections.abc import Iterator
from contextlib import contextmanager
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import httpx
from sqlalchemy import insert

from bench.api_server import running_api
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


def _latencies(url: str, requests: int) -> list[float]:
    seconds = []
    with httpx.Client(base_url=url, timeout=30) as client:
        for _ in range(200):  # warm-up: connections, caches, JIT-free but import-lazy paths
            client.post("/graphql", json=QUERY).raise_for_status()
        for _ in range(requests):
            began = time.perf_counter()
            client.post("/graphql", json=QUERY).raise_for_status()
            seconds.append(time.perf_counter() - began)
    return seconds


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
            print(f"{'variant':<38} {'median ms':>10} {'p90 ms':>8} {'req/s':>7}")
            for name, environment in variants.items():
                with running_api(
                    stack.database_url, stack.redis_url, extra_environment=environment
                ) as api:
                    seconds = _latencies(api.url, args.requests)
                median = statistics.median(seconds) * 1000
                p90 = statistics.quantiles(seconds, n=10)[-1] * 1000
                print(f"{name:<38} {median:>10.2f} {p90:>8.2f} {len(seconds) / sum(seconds):>7.0f}")


if __name__ == "__main__":
    main()
