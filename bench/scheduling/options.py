"""The command line of ``python -m bench.scheduling``, read into :class:`Options`, and the
loads a row can be run at."""

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bench.scheduling

DEFAULT_DATABASE_URL = "postgresql://postgres@127.0.0.1:5432/medappt_scale"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/5"
SCENARIOS = ("anatomy", "miss", "hit", "book")
CLOSED_LOOP_CEILING = 600  # requests/s a closed-loop row is prepared for


@dataclass(frozen=True, slots=True)
class Load:
    """Open loop at ``rate`` requests/s, or a closed loop of ``workers`` (exactly one set)."""

    rate: float | None = None
    workers: int | None = None

    @property
    def label(self) -> str:
        return f"{self.rate:g}rps" if self.rate is not None else f"{self.workers}workers"

    def requests_needed(self, span_s: float) -> int:
        """Requests to prepare; a closed loop gets enough for ``CLOSED_LOOP_CEILING``/s."""
        return round(span_s * (self.rate if self.rate is not None else CLOSED_LOOP_CEILING))


def loads(rates: Sequence[float], workers: Sequence[int]) -> tuple[Load, ...]:
    return (*(Load(rate=r) for r in rates), *(Load(workers=n) for n in workers))


@dataclass(frozen=True, slots=True)
class Options:
    database_url: str
    redis_url: str
    scenarios: tuple[str, ...]
    miss_loads: tuple[Load, ...]
    hit_loads: tuple[Load, ...]
    hit_keys: int
    book_loads: tuple[Load, ...]
    warmup_s: float
    duration_s: float
    connections: int
    timeout_s: float
    keep_bookings: bool
    quiet_wait_s: float
    attempts: int
    py_spy_dir: Path | None
    seed: int


def _numbers(text: str) -> tuple[float, ...]:
    return tuple(float(part) for part in text.split(",") if part.strip())


def _integers(text: str) -> tuple[int, ...]:
    return tuple(int(part) for part in text.split(",") if part.strip())


def parse_options(argv: Sequence[str] | None = None) -> Options:
    summary = bench.scheduling.__doc__
    parser = argparse.ArgumentParser(
        prog="python -m bench.scheduling",
        description=summary.splitlines()[0] if summary else None,
    )
    parser.add_argument("--database-url", default=DEFAULT_DATABASE_URL)
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="flushed before each row")
    parser.add_argument(
        "--scenarios", default=",".join(SCENARIOS), help=f"of {', '.join(SCENARIOS)}"
    )
    parser.add_argument("--miss-rates", default="25,50,100,150", help="open loop, req/s")
    parser.add_argument("--miss-workers", default="1,8", help="closed loop, concurrencies")
    parser.add_argument("--hit-rates", default="100,200,300,500")
    parser.add_argument("--hit-workers", default="1,8")
    parser.add_argument("--hit-keys", type=int, default=500, help="doctor-days kept warm")
    parser.add_argument("--book-rates", default="50,100,300")
    parser.add_argument("--book-workers", default="1,16")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not measured")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--connections", type=int, default=512, help="client connection pool")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument("--keep-bookings", action="store_true", help="do not cancel them")
    parser.add_argument(
        "--attempts",
        type=int,
        default=3,
        help="runs of a row at most, while other processes disturb it; the quietest is shown",
    )
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=60.0,
        help="seconds to wait, before each row, for the machine to be idle (0: do not)",
    )
    parser.add_argument(
        "--py-spy",
        type=Path,
        default=None,
        metavar="DIR",
        help="record the API with py-spy --native in each measured part, and summarize",
    )
    parser.add_argument("--seed", type=int, default=1)
    args = parser.parse_args(argv)
    scenarios = tuple(name.strip() for name in args.scenarios.split(",") if name.strip())
    unknown = set(scenarios) - set(SCENARIOS)
    if unknown:
        parser.error(f"unknown scenarios: {', '.join(sorted(unknown))}")
    return Options(
        database_url=args.database_url,
        redis_url=args.redis_url,
        scenarios=scenarios,
        miss_loads=loads(_numbers(args.miss_rates), _integers(args.miss_workers)),
        hit_loads=loads(_numbers(args.hit_rates), _integers(args.hit_workers)),
        hit_keys=args.hit_keys,
        book_loads=loads(_numbers(args.book_rates), _integers(args.book_workers)),
        warmup_s=args.warmup,
        duration_s=args.duration,
        connections=args.connections,
        timeout_s=args.timeout,
        keep_bookings=args.keep_bookings,
        quiet_wait_s=args.quiet_wait,
        attempts=max(1, args.attempts),
        py_spy_dir=args.py_spy,
        seed=args.seed,
    )
