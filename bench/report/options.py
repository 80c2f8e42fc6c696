"""The command line of ``python -m bench.report``, read into :class:`ReportOptions`."""

import argparse
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

import bench.report
from bench.scheduling.options import Load, Options, loads

DATABASE = "medappt_bench_speed"
DEFAULT_ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"
DEFAULT_REDIS_URL = "redis://127.0.0.1:6379/7"
ROOT = Path(__file__).resolve().parents[2]


@dataclass(frozen=True, slots=True)
class ReportOptions:
    admin_url: str  # only to create the bench's own database
    quick: bool
    scheduling: Options  # what the scheduling harness reads
    records_loads: tuple[Load, ...]
    mixed_loads: tuple[Load, ...]
    process_workers: int  # closed-loop concurrency of the 1-vs-2-processes rows
    document: Path
    plots: Path
    write: bool


def parse_options(argv: Sequence[str] | None = None) -> ReportOptions:
    summary = bench.report.__doc__
    parser = argparse.ArgumentParser(
        prog="python -m bench.report", description=summary.splitlines()[0] if summary else None
    )
    parser.add_argument("--admin-url", default=DEFAULT_ADMIN_URL, help="creates the database")
    parser.add_argument("--redis-url", default=DEFAULT_REDIS_URL, help="flushed before rows")
    parser.add_argument(
        "--quick", action="store_true", help="short rows, fewer loads: about 5 minutes"
    )
    parser.add_argument("--document", type=Path, default=ROOT / "docs" / "performance.md")
    parser.add_argument("--plots", type=Path, default=ROOT / "docs" / "plots")
    parser.add_argument(
        "--no-write", action="store_true", help="print only (plots to a temporary directory)"
    )
    parser.add_argument(
        "--quiet-wait", type=float, default=None, help="seconds to wait for an idle machine"
    )
    args = parser.parse_args(argv)
    quick = bool(args.quick)
    database_url = args.admin_url.rsplit("/", 1)[0] + f"/{DATABASE}"
    scheduling = Options(
        database_url=database_url,
        redis_url=args.redis_url,
        scenarios=("miss", "hit", "book"),
        miss_loads=loads((50,) if quick else (25, 50, 100, 150), (8,)),
        hit_loads=loads((200, 500) if quick else (100, 200, 300, 500, 700), (8,)),
        hit_keys=200 if quick else 500,
        book_loads=loads((100, 300) if quick else (50, 100, 200, 300), (16,)),
        warmup_s=1.0 if quick else 3.0,
        duration_s=3.0 if quick else 20.0,
        connections=512,
        # Set-up requests after an overloaded row wait for the API to work through it.
        timeout_s=30.0,
        keep_bookings=False,
        quiet_wait_s=(0.0 if quick else 60.0) if args.quiet_wait is None else args.quiet_wait,
        attempts=1 if quick else 3,
        py_spy_dir=None,
        seed=1,
    )
    return ReportOptions(
        admin_url=args.admin_url,
        quick=quick,
        scheduling=scheduling,
        records_loads=loads((50,) if quick else (50, 100, 200), (16,)),
        mixed_loads=loads((50,) if quick else (50, 100, 150, 200), ()),
        process_workers=16,
        document=args.document,
        plots=args.plots,
        write=not args.no_write,
    )
