"""The servers compared, A (the product, maybe instrumented) and B (the baseline), and
running one of them on a free port until a block ends."""

import asyncio
import re
import signal
import subprocess
import sys
import time
from collections.abc import AsyncIterator, Iterator
from contextlib import asynccontextmanager, contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import IO

import aiohttp

from devtools.embedded.process import free_port, log_tail

ROOT = Path(__file__).resolve().parents[2]

_READY_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class ServerSpec:
    label: str  # "A", "B full", ...
    description: str
    command: tuple[str, ...]  # the port is appended
    env: dict[str, str] = field(default_factory=dict)
    instrumented: bool = False  # answers GET /bench/gc


PRODUCT_VARIANT = re.compile(r"standard|asis|default|freeze|t(\d+)|freeze\+t(\d+)")


def product_spec(variant: str = "plain") -> ServerSpec:
    """``medappt serve`` (``standard``: with graphql-core's own executor), or (any other
    variant) the same app run by
    :mod:`bench.records.instrumented_product` with the collector's time counted: ``asis``
    leaves the collector as ``medappt serve`` sets it; ``default`` puts back Python's
    defaults (nothing frozen, thresholds 700, 10, 10); ``freeze``, ``tN`` and ``freeze+tN``
    start from the defaults and call ``gc.freeze()`` at the first request (after start-up,
    services open) and/or set the first generation's threshold to N."""
    medappt = Path(sys.executable).with_name("medappt")
    serve = (str(medappt), "serve", "--host", "127.0.0.1", "--workers", "1", "--port")
    if variant == "plain":
        return ServerSpec(
            "A",
            "`medappt serve --workers 1` (Strawberry, SQLAlchemy ORM, DataLoaders, audit)",
            serve,
        )
    if variant == "standard":
        return ServerSpec(
            "A standard",
            "A with graphql-core's own executor (`MEDAPPT_EXECUTOR=standard`)",
            serve,
            {"MEDAPPT_EXECUTOR": "standard"},
        )
    match = PRODUCT_VARIANT.fullmatch(variant)
    if match is None:
        raise ValueError(f"unknown product variant {variant!r}")
    threshold = match.group(1) or match.group(2) or "0"
    freeze = variant.startswith("freeze")
    if variant == "asis":
        description = "A with the collector's time counted (GC as `medappt serve` sets it)"
    else:
        changes = [
            *(["`gc.freeze()` at the first request"] if freeze else []),
            *([f"`gc.set_threshold({threshold}, 10, 10)`"] if threshold != "0" else []),
        ]
        description = "A with the collector's time counted, Python's default GC" + (
            " + " + " and ".join(changes) if changes else ""
        )
    return ServerSpec(
        f"A {variant}",
        description,
        (sys.executable, "-m", "bench.records.instrumented_product", "--port"),
        {
            "BENCH_GC": "asis" if variant == "asis" else "set",
            "BENCH_GC_FREEZE": "1" if freeze else "0",
            "BENCH_GC_THRESHOLD0": threshold,
        },
        instrumented=True,
    )


BASELINE_DESCRIPTIONS = {
    "full": "baseline: one SQL statement, verify_access + Redis revoked check",
    "verify": "baseline: one SQL statement, verify_access only",
    "none": "baseline: one SQL statement, no token check",
    "full+audit": "baseline `full` + the same audit rows (one INSERT ... unnest)",
}


def baseline_spec(variant: str) -> ServerSpec:
    auth, _, audit = variant.partition("+")
    return ServerSpec(
        f"B {variant}",
        BASELINE_DESCRIPTIONS[variant],
        (sys.executable, "-m", "bench.records.baseline", "--host", "127.0.0.1", "--port"),
        {"BENCH_BASELINE_AUTH": auth, "BENCH_BASELINE_AUDIT": "1" if audit == "audit" else "0"},
    )


@dataclass(frozen=True, slots=True)
class Server:
    pid: int
    url: str
    log_path: Path

    @property
    def graphql_url(self) -> str:
        return f"{self.url}/graphql"

    def log_tail(self, lines: int = 30) -> str:
        try:
            text = self.log_path.read_text(encoding="utf-8", errors="replace")
        except OSError:
            return ""
        return "\n".join(text.splitlines()[-lines:])


@contextmanager
def _log_file(path: Path) -> Iterator[IO[bytes]]:
    with path.open("wb") as log:
        yield log


async def _wait_ready(process: asyncio.subprocess.Process, url: str, log_path: Path) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    timeout = aiohttp.ClientTimeout(total=2.0)
    async with aiohttp.ClientSession(timeout=timeout) as http:
        while time.monotonic() < deadline:
            if process.returncode is not None:
                tail = log_tail(log_path)
                raise RuntimeError(f"{url} exited with {process.returncode}:\n{tail}")
            try:
                async with http.get(f"{url}/ready") as response:
                    if response.status == 200:
                        return
            except (aiohttp.ClientError, TimeoutError):
                pass
            await asyncio.sleep(0.2)
    raise RuntimeError(f"{url} was not ready within {_READY_TIMEOUT_S:.0f} s")


async def _stop(process: asyncio.subprocess.Process) -> None:
    if process.returncode is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully on SIGINT
    try:
        await asyncio.wait_for(process.wait(), _STOP_TIMEOUT_S)
    except TimeoutError:
        process.kill()
        await process.wait()


@asynccontextmanager
async def running(spec: ServerSpec, env: dict[str, str], data_dir: Path) -> AsyncIterator[Server]:
    port = free_port()
    log_path = data_dir / f"{spec.label.replace(' ', '-').replace('+', '-')}-{port}.log"
    with _log_file(log_path) as log:
        process = await asyncio.create_subprocess_exec(
            *spec.command,
            str(port),
            cwd=ROOT,
            env={**env, **spec.env},
            stdout=log,
            stderr=subprocess.STDOUT,
        )
        url = f"http://127.0.0.1:{port}"
        try:
            await _wait_ready(process, url, log_path)
            yield Server(pid=process.pid, url=url, log_path=log_path)
        finally:
            await _stop(process)
