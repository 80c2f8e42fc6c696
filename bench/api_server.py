"""One ``medappt serve`` process for a benchmark, signing tokens with a key the bench holds.

The bench generates the Ed25519 key and hands its private JWK to the server, so it can mint
access tokens itself (:class:`~services.auth.tokens.TokenService`) instead of logging in.
"""

import json
import os
import shutil
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx
from joserfc.jwk import KeySet

from devtools.embedded.process import free_port, log_tail
from services.auth.keys import TokenKeys, generate_signing_key, public_part
from services.auth.tokens import TokenService

_READY_TIMEOUT_S = 60.0
_STOP_TIMEOUT_S = 15.0


@dataclass(frozen=True, slots=True)
class ApiServer:
    pid: int
    url: str  # e.g. http://127.0.0.1:41234
    tokens: TokenService  # the server's own signing key
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


def _medappt_executable() -> str:
    beside_python = Path(sys.executable).with_name("medappt")
    if beside_python.exists():
        return str(beside_python)
    found = shutil.which("medappt")
    if found is None:
        raise RuntimeError("the `medappt` command is not installed in this environment")
    return found


def _wait_ready(process: "subprocess.Popen[bytes]", url: str, log_path: Path) -> None:
    deadline = time.monotonic() + _READY_TIMEOUT_S
    with httpx.Client(timeout=2.0) as client:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                tail = log_tail(log_path)
                raise RuntimeError(f"medappt serve exited with {process.returncode}:\n{tail}")
            try:
                if client.get(f"{url}/ready").status_code == 200:
                    return
            except httpx.TransportError:
                pass
            time.sleep(0.2)
    raise RuntimeError(f"medappt serve was not ready within {_READY_TIMEOUT_S:.0f} s")


def _stop(process: "subprocess.Popen[bytes]") -> None:
    if process.poll() is not None:
        return
    process.send_signal(signal.SIGINT)  # uvicorn shuts down gracefully on SIGINT
    try:
        process.wait(_STOP_TIMEOUT_S)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


@contextmanager
def running_api(
    database_url: str,
    redis_url: str,
    *,
    workers: int = 1,
    extra_environment: Mapping[str, str] | None = None,
) -> Iterator[ApiServer]:
    """``medappt serve`` on a free local port with a fresh signing key, until the block ends."""
    signing = generate_signing_key()
    tokens = TokenService(
        TokenKeys(signing=signing, verification=KeySet([public_part(signing)])),
        "medappt",
        "medappt-api",
    )
    port = free_port()
    with tempfile.TemporaryDirectory(prefix="medappt-bench-") as data_dir:
        log_path = Path(data_dir) / "serve.log"
        environment = {
            **os.environ,
            "DATABASE_URL": database_url,
            "REDIS_URL": redis_url,
            "MEDAPPT_ENV": "dev",
            "MEDAPPT_DATA_DIR": data_dir,
            "MEDAPPT_JWT_PRIVATE_KEY": json.dumps(signing.as_dict(private=True)),
            # The load comes from one address at rates no client may reach.
            "MEDAPPT_RATE_LIMITS": "off",
            **(extra_environment or {}),
        }
        for name in ("MEDAPPT_JWT_PUBLIC_KEYS", "MEDAPPT_JWT_ISSUER", "MEDAPPT_JWT_AUDIENCE"):
            environment.pop(name, None)
        command = [_medappt_executable(), "serve", "--host", "127.0.0.1", "--port", str(port)]
        command += ["--workers", str(workers)]
        with log_path.open("wb") as log:
            process = subprocess.Popen(  # noqa: S603 - our own command, no shell
                command, env=environment, stdout=log, stderr=subprocess.STDOUT
            )
        url = f"http://127.0.0.1:{port}"
        try:
            _wait_ready(process, url, log_path)
            yield ApiServer(pid=process.pid, url=url, tokens=tokens, log_path=log_path)
        finally:
            _stop(process)
