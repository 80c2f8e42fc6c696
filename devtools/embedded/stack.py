"""The set of embedded servers one `medappt dev` run or test session needs."""

import logging
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import TracebackType
from typing import Protocol, Self

from devtools.embedded.postgres import EmbeddedPostgres
from devtools.embedded.redis import EmbeddedRedis
from devtools.embedded.s3 import EmbeddedS3

_log = logging.getLogger(__name__)


class _Server(Protocol):
    def start(self) -> None: ...
    def stop(self) -> None: ...


class EmbeddedStack:
    """Starts the requested servers under `data_dir/{postgres,redis,s3}` and stops them together."""

    def __init__(
        self, data_dir: Path, *, postgres: bool, redis: bool, s3: bool, durable: bool
    ) -> None:
        self._postgres = EmbeddedPostgres(data_dir / "postgres", durable) if postgres else None
        self._redis = EmbeddedRedis(data_dir / "redis", durable) if redis else None
        self._s3 = EmbeddedS3(data_dir / "s3") if s3 else None
        self._servers: list[_Server] = [
            s for s in (self._postgres, self._redis, self._s3) if s is not None
        ]

    @property
    def database_url(self) -> str | None:
        return None if self._postgres is None else self._postgres.url

    @property
    def redis_url(self) -> str | None:
        return None if self._redis is None else self._redis.url

    @property
    def s3_endpoint_url(self) -> str | None:
        return None if self._s3 is None else self._s3.url

    def start(self) -> None:
        began = time.monotonic()
        try:
            # Concurrently: initdb, postgres boot and moto's imports dominate, and overlap.
            with ThreadPoolExecutor(
                len(self._servers) or 1, thread_name_prefix="medappt-start"
            ) as pool:
                for future in [pool.submit(server.start) for server in self._servers]:
                    future.result()
        except BaseException:
            # Leaving the pool joined every start: each server is up or cleaned up after itself.
            self.stop()
            raise
        _log.info("embedded servers ready in %.1fs", time.monotonic() - began)

    def stop(self) -> None:
        """Stop every server, last first, even if stopping one of them fails."""
        errors: list[Exception] = []
        for server in reversed(self._servers):
            try:
                server.stop()
            except Exception as exc:  # noqa: BLE001 - report every failure, not just the first
                errors.append(exc)
        if errors:
            raise ExceptionGroup("failed to stop embedded servers", errors)

    def __enter__(self) -> Self:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        self.stop()
