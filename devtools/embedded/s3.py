"""An S3-compatible endpoint: moto in server mode, as a separate Python process."""

import http.client
import os
import sys
import urllib.error
import urllib.request
from pathlib import Path

from devtools.embedded.process import ManagedProcess, free_port

_START_TIMEOUT = 60.0
# Bypass any HTTP(S)_PROXY from the environment: the server is on loopback.
_opener = urllib.request.build_opener(urllib.request.ProxyHandler({}))


class EmbeddedS3:
    """A moto server on a free 127.0.0.1 port; state is in memory, `data_dir` holds its log."""

    def __init__(self, data_dir: Path) -> None:
        self.data_dir = data_dir.resolve()
        self._process: ManagedProcess | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmbeddedS3 is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = free_port()
        args = [sys.executable, "-m", "moto.server", "-H", "127.0.0.1", "-p", str(port)]
        # moto builds some URLs from MOTO_PORT and keeps an inherited value over -p.
        env = {**os.environ, "MOTO_PORT": str(port), "PYTHONUNBUFFERED": "1"}
        self._process = ManagedProcess("moto", args, self.data_dir / "moto.log", env=env)
        self._port = port
        try:
            self._process.wait_until_ready(lambda: _answers_http(self.url), _START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
            self._port = None


def _answers_http(url: str) -> bool:
    try:
        with _opener.open(url, timeout=1):
            return True
    except urllib.error.HTTPError:
        return True  # any HTTP status means the server is up
    except (OSError, http.client.HTTPException):
        return False
