"""A, instrumented: ``medappt serve``'s app with the cyclic garbage collector's time counted.

Run with ``python -m bench.records.instrumented_product --port N`` (``bench.records`` starts
it for ``--products``): the same app and uvicorn settings as ``medappt serve --host
127.0.0.1 --workers 1``, the collector set by ``BENCH_GC``, ``BENCH_GC_FREEZE`` and
``BENCH_GC_THRESHOLD0`` (see :func:`bench.records.servers.product_spec`), and ``GET
/bench/gc`` answering the collector's clock.
"""

import argparse
import gc
import os
import time
from typing import Any

import uvicorn
from starlette.responses import JSONResponse
from starlette.types import ASGIApp, Receive, Scope, Send

from medappt.asgi import app_from_env
from services.settings import load_settings

GC_PATH = "/bench/gc"


class GcClock:
    """CPU seconds the cyclic garbage collector spends, by generation (``gc.callbacks``)."""

    def __init__(self) -> None:
        self._started = 0.0
        self.collections = [0, 0, 0]
        self.seconds = [0.0, 0.0, 0.0]
        self.collected = [0, 0, 0]

    def __call__(self, phase: str, info: dict[str, int]) -> None:
        if phase == "start":
            self._started = time.thread_time()
            return
        generation = info["generation"]
        self.seconds[generation] += time.thread_time() - self._started
        self.collections[generation] += 1
        self.collected[generation] += info["collected"]

    def as_dict(self) -> dict[str, Any]:
        return {
            "collections": self.collections,
            "seconds": self.seconds,
            "collected": self.collected,
            "tracked": len(gc.get_objects()),
            "frozen": gc.get_freeze_count(),
            "threshold": gc.get_threshold(),
        }


class InstrumentedProduct:
    """``medappt serve``'s app, answering ``GET /bench/gc`` with the collector's clock and,
    if asked, freezing every object alive at the first request (after start-up)."""

    def __init__(self, app: ASGIApp, clock: GcClock, *, freeze: bool) -> None:
        self._app = app
        self._clock = clock
        self._freeze_pending = freeze

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http":
            if self._freeze_pending:
                self._freeze_pending = False
                gc.collect()
                gc.freeze()
            if scope["path"] == GC_PATH:
                await JSONResponse(self._clock.as_dict())(scope, receive, send)
                return
        await self._app(scope, receive, send)


def instrumented_product_app() -> InstrumentedProduct:
    """The uvicorn factory: configured by ``BENCH_GC*``."""
    app = app_from_env()  # which may tune the collector itself
    freeze = False
    if os.environ.get("BENCH_GC", "asis") != "asis":
        gc.unfreeze()
        gc.set_threshold(700, 10, 10)  # Python's defaults
        threshold = int(os.environ.get("BENCH_GC_THRESHOLD0", "0"))
        if threshold > 0:
            gc.set_threshold(threshold, 10, 10)
        freeze = os.environ.get("BENCH_GC_FREEZE", "0") == "1"
    clock = GcClock()
    gc.callbacks.append(clock)
    return InstrumentedProduct(app, clock, freeze=freeze)


def serve_product(port: int) -> None:
    """``medappt serve --host 127.0.0.1 --workers 1 --port PORT``, the app instrumented."""
    load_settings(os.environ).require_servers()
    uvicorn.run(
        "bench.records.instrumented_product:instrumented_product_app",
        factory=True,
        host="127.0.0.1",
        port=port,
        workers=1,
        proxy_headers=True,
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--port", type=int, required=True)
    serve_product(parser.parse_args().port)


if __name__ == "__main__":
    main()
