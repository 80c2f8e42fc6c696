"""The command line of ``python -m bench.records``, read into :class:`Options`."""

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bench.records
from bench.records.query import SHAPES
from bench.records.servers import BASELINE_DESCRIPTIONS, PRODUCT_VARIANT

DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_DATABASE = "medappt_bench_records"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/6"


@dataclass(frozen=True, slots=True)
class Options:
    admin_url: str
    database: str
    redis_url: str
    connections: int
    warmup_s: float
    duration_s: float
    timeout_s: float
    baselines: tuple[str, ...]  # of full, verify, none, full+audit
    products: tuple[str, ...]  # instrumented variants of A: asis, default, freeze, tN, ...
    cold: bool
    shapes: tuple[str, ...]  # run on A with a shorter duration: "full" and lighter ones
    shape_duration_s: float
    profile_dir: Path | None
    profile_s: float
    native: bool
    keep_database: bool
    quiet_wait_s: float
    max_others: float  # CPUs other processes may use during a measured part
    attempts: int
    embedded: Path | None  # PostgreSQL and Redis started under it instead of the URLs


def _names(text: str) -> tuple[str, ...]:
    return tuple(name.strip() for name in text.split(",") if name.strip())


def parse_options(argv: Sequence[str] | None = None) -> Options:
    summary = bench.records.__doc__
    parser = argparse.ArgumentParser(
        prog="python -m bench.records", description=summary.splitlines()[0] if summary else None
    )
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="creates the database")
    parser.add_argument("--database", default=DEFAULT_DATABASE, help="dropped and recreated")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="flushed before each run")
    parser.add_argument("--connections", type=int, default=16, help="closed-loop clients")
    parser.add_argument("--warmup", type=float, default=3.0, help="seconds, not measured")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds measured")
    parser.add_argument("--timeout", type=float, default=10.0, help="per request, seconds")
    parser.add_argument(
        "--baselines",
        default="full,verify,none,full+audit",
        help="of full, verify, none, full+audit; the first is also run with cold links "
        "and profiled",
    )
    parser.add_argument(
        "--products",
        default="asis,default,freeze+t10000",
        help="instrumented product variants besides `medappt serve`: asis, default, freeze, "
        "tN, freeze+tN (empty for none)",
    )
    parser.add_argument("--no-cold", action="store_true", help="skip the cold-link runs")
    parser.add_argument(
        "--shapes",
        default=",".join(name for name in SHAPES if name != "full"),
        help=f"lighter queries run on A, of: {', '.join(SHAPES)} (empty for none)",
    )
    parser.add_argument("--shape-duration", type=float, default=10.0, help="seconds measured")
    parser.add_argument(
        "--profile",
        type=Path,
        default=None,
        metavar="DIR",
        help="py-spy A and the first B",
    )
    parser.add_argument("--profile-seconds", type=float, default=15.0)
    parser.add_argument(
        "--no-native", action="store_true", help="py-spy without --native (no C frames, no GC)"
    )
    parser.add_argument("--keep-database", action="store_true")
    parser.add_argument(
        "--quiet-wait",
        type=float,
        default=900.0,
        help="before each run, wait up to this many seconds for other processes to go idle",
    )
    parser.add_argument(
        "--max-others",
        type=float,
        default=0.15,
        help="CPUs other processes may use during a measured part before it is run again",
    )
    parser.add_argument("--attempts", type=int, default=3, help="runs at most, per row")
    parser.add_argument(
        "--embedded",
        type=Path,
        default=None,
        metavar="DIR",
        help="start PostgreSQL and Redis under DIR (kept between runs) instead of the URLs",
    )
    args = parser.parse_args(argv)
    baselines = _names(args.baselines)
    unknown = set(baselines) - set(BASELINE_DESCRIPTIONS)
    if unknown or not baselines:
        parser.error(f"unknown or no baselines: {', '.join(sorted(unknown))}")
    products = _names(args.products)
    if any(PRODUCT_VARIANT.fullmatch(name) is None for name in products):
        parser.error(f"unknown product variants in {args.products!r}")
    shapes = ("full", *_names(args.shapes)) if _names(args.shapes) else ()
    if set(shapes) - set(SHAPES):
        parser.error(f"unknown shapes in {args.shapes!r}")
    return Options(
        admin_url=args.admin_url,
        database=args.database,
        redis_url=args.redis_url,
        connections=args.connections,
        warmup_s=args.warmup,
        duration_s=args.duration,
        timeout_s=args.timeout,
        baselines=baselines,
        products=products,
        cold=not args.no_cold,
        shapes=shapes,
        shape_duration_s=args.shape_duration,
        profile_dir=args.profile,
        profile_s=args.profile_seconds,
        native=not args.no_native,
        keep_database=args.keep_database,
        quiet_wait_s=args.quiet_wait,
        max_others=args.max_others,
        attempts=args.attempts,
        embedded=args.embedded,
    )
