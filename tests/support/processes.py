"""`medappt serve` and `medappt worker` as real processes, with their output in a file."""

import asyncio
import contextlib
import os
import signal
import subprocess
import sys
from collections.abc import AsyncIterator, Mapping
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent.parent


def command_env(extra: Mapping[str, str]) -> dict[str, str]:
    """This environment without the project's settings, plus ``extra``."""
    ours = ("MEDAPPT_", "DATABASE_URL", "ANALYTICS_DATABASE_URL", "REDIS_URL", "S3_", "OTEL_")
    base = {key: value for key, value in os.environ.items() if not key.startswith(ours)}
    base.pop("PROMETHEUS_MULTIPROC_DIR", None)
    return {**base, **extra}


@contextlib.asynccontextmanager
async def running(
    args: list[str], env: Mapping[str, str], log: Path
) -> AsyncIterator["subprocess.Popen[bytes]"]:
    """``medappt ARGS`` until the block ends, then SIGTERM (SIGKILL if it lingers)."""
    with log.open("wb") as output:
        process = subprocess.Popen(  # noqa: ASYNC220 - started once, waited for below
            [sys.executable, "-m", "medappt", *args],
            env=command_env(env),
            stdout=output,
            stderr=subprocess.STDOUT,
            cwd=ROOT,
        )
    try:
        yield process
    finally:
        process.send_signal(signal.SIGTERM)
        try:
            await asyncio.to_thread(process.wait, 30)
        except subprocess.TimeoutExpired:
            process.kill()
            await asyncio.to_thread(process.wait)


async def until_answers(url: str, process: "subprocess.Popen[bytes]", log: Path) -> None:
    """Poll ``url`` until it answers 200; fail with the log if the process ends first."""
    async with asyncio.timeout(90), httpx.AsyncClient(timeout=2) as http:
        while True:
            if process.poll() is not None:
                output = log.read_text()  # noqa: ASYNC240 - a small file, once
                raise AssertionError(f"exited with {process.returncode}:\n{output}")
            with contextlib.suppress(httpx.TransportError):
                if (await http.get(url)).status_code == 200:
                    return
            await asyncio.sleep(0.1)


async def until_logged(text: str, log: Path) -> None:
    async with asyncio.timeout(60):
        # A process's output cannot signal us: poll the file.
        while text not in log.read_text(errors="replace"):  # noqa: ASYNC110, ASYNC240
            await asyncio.sleep(0.05)
