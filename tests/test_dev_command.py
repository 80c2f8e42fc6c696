"""`medappt dev` as a newcomer runs it: embedded servers, demo data, GraphiQL, clean stop."""

import os
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from devtools.embedded.process import free_port

ROOT = Path(__file__).resolve().parent.parent
START_DEADLINE_SECONDS = 60


def _start(data_dir: Path, port: int) -> "subprocess.Popen[str]":
    env = {
        key: value
        for key, value in os.environ.items()
        if key not in {"DATABASE_URL", "REDIS_URL", "S3_ENDPOINT_URL"}
        and not key.startswith("MEDAPPT_")
    }
    return subprocess.Popen(
        [sys.executable, "-m", "medappt", "dev", "--port", str(port), "--data-dir", str(data_dir)],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )


def _wait_for_health(process: "subprocess.Popen[str]", url: str) -> float:
    started = time.monotonic()
    while time.monotonic() - started < START_DEADLINE_SECONDS:
        if process.poll() is not None:
            raise AssertionError(
                f"medappt dev exited early:\n{process.stdout.read() if process.stdout else ''}"
            )
        try:
            if httpx.get(f"{url}/health", timeout=1).status_code == 200:
                return time.monotonic() - started
        except httpx.TransportError:
            pass
        time.sleep(0.1)  # polling a deadline, not waiting for a guess
    raise AssertionError(f"GET /health did not answer within {START_DEADLINE_SECONDS}s")


def _stop(process: "subprocess.Popen[str]") -> str:
    process.send_signal(signal.SIGTERM)
    output, _ = process.communicate(timeout=60)
    assert process.returncode == 0, output
    return output


def _processes_using(data_dir: Path) -> list[str]:
    found = []
    for cmdline in Path("/proc").glob("[0-9]*/cmdline"):
        try:
            text = cmdline.read_bytes().replace(b"\0", b" ").decode()
        except OSError:
            continue
        if str(data_dir) in text and "pytest" not in text:
            found.append(text)
    return found


@pytest.fixture
def data_dir(tmp_path: Path) -> Iterator[Path]:
    yield tmp_path / "medappt-data"
    assert _processes_using(tmp_path / "medappt-data") == []


def test_dev_serves_demo_data_and_stops_cleanly_twice(data_dir: Path) -> None:
    port = free_port()
    url = f"http://127.0.0.1:{port}"

    first = _start(data_dir, port)
    try:
        _wait_for_health(first, url)
        graphiql = httpx.get(f"{url}/graphql", headers={"Accept": "text/html"})
        body = httpx.post(
            f"{url}/graphql",
            json={
                "query": "{ clinics { timezone } doctors(first: 100) { edges { node { id } } } }"
            },
        ).json()
        ready = httpx.get(f"{url}/ready").json()
    finally:
        first_output = _stop(first)

    assert graphiql.status_code == 200
    assert "graphiql" in graphiql.text.lower()
    assert len(body["data"]["clinics"]) == 3
    assert len({clinic["timezone"] for clinic in body["data"]["clinics"]}) == 3
    assert len(body["data"]["doctors"]["edges"]) == 10
    assert ready == {"status": "ready", "database": "ok", "redis": "ok"}
    assert "demo data: DemoSummary(users=61, clinics=3, doctors=10," in first_output
    assert "admin@demo.medappt.dev" in first_output
    assert _processes_using(data_dir) == []

    # The database survives a restart; the in-memory S3 does not, so only documents return.
    second = _start(data_dir, port)
    try:
        _wait_for_health(second, url)
    finally:
        second_output = _stop(second)
    assert (
        "demo data: DemoSummary(users=0, clinics=0, doctors=0, doctor_clinics=0,"
        " schedule_templates=0, patients=0, appointments=0, medical_records=0,"
        " documents_uploaded=151)"
    ) in second_output
