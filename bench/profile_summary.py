"""Where a server's time goes, from py-spy's raw (collapsed) stacks.

Run with ``python -m bench.profile_summary FILE [--cpu-ms-per-request X]``. Each sample of
the event-loop thread is given to the first rule, in the order below, that one of its frames
matches, so a statement run by the doctor loader counts as "SQL: doctor loader" however
deep in SQLAlchemy and asyncpg it was caught. Recorded with ``--native``, the cycle
collector (``gc_collect_main``) shows as such; without it, its time is spread over whatever
Python code allocated when it ran. Samples waiting in epoll are left out. With the server's
CPU per request (the bench measures it), shares become milliseconds per request.
"""

import argparse
from collections import Counter
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path

# (category, frame substrings): the first rule with any substring in any frame wins.
RULES: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("Python cycle GC (gen 0-2 collections)", ("gc_collect_main",)),
    ("pool pre-ping (SELECT 1 at each checkout)", ("_async_ping",)),
    ("audit log INSERT (own transaction)", ("AuditTrail.flush",)),
    ("uvicorn access log", ("logging/__init__.py", "uvicorn/logging.py")),
    ("HTTP: response write (socket send)", ("RequestResponseCycle.send",)),
    ("token: Ed25519 verify + claims (joserfc)", ("TokenService.verify_access",)),
    ("token: revoked? (Redis EXISTS)", ("is_revoked",)),
    ("slot cache: JSON decode to Slot objects", ("_decode (medappt/slot_cache.py",)),
    ("slot cache: Redis pipeline GETs", ("SlotCache.read",)),
    ("slot cache: Redis store", ("SlotCache.store",)),
    ("slot cache: version INCR", ("SlotCache.invalidate",)),
    ("slots: compute day in Python", ("DoctorDay.slots", "as_of (domain/availability.py")),
    ("SQL: doctor exists? (doctor loader)", ("load_doctors (loaders/doctors.py",)),
    ("clinic directory (Slot, Appointment times)", ("get_many (medappt/clinic_directory",)),
    ("SQL: templates+appointments+exceptions", ("load_doctor_days",)),
    ("SQL: clinic zone of doctor", ("clinic_zone_of",)),
    ("SQL: idempotency-key lookup", ("_booked_with_key",)),
    ("SQL: INSERT appointment (savepoint, flush)", ("book (domain/booking.py",)),
    ("SQL: BEGIN/COMMIT/ROLLBACK, session close", ("sqlalchemy/", "asyncpg/")),
    ("GraphQL parse", ("graphql/language/",)),
    ("GraphQL validate", ("graphql/validation/",)),
    ("GraphQL execute (graphql-core + Strawberry fields)", ("graphql/execution/",)),
    ("DataLoader scheduling", ("aiodataloader/",)),
    ("context: loaders + audit trail", ("build_context", "GraphQLApp.get_context")),
    ("JSON: response encode", ("json/encoder", "dumps (json/")),
    ("JSON: request decode", ("json/decoder", "loads (json/")),
    ("Strawberry HTTP view + schema hooks", ("strawberry/",)),
    ("Starlette + uvicorn (HTTP)", ("starlette/", "uvicorn/protocols", "uvicorn/middleware")),
)
IN_LOOP = "event loop in C (uvloop callbacks, socket reads, task steps)"
OTHER = "other Python"

_MAIN_THREAD_MARK = "uvicorn/server.py"
# The outermost Python frames of the loop: below them, only C code runs.
_LOOP_FRAMES = ("Runner.run (asyncio/runners.py", "asyncio_run (uvicorn/_compat.py")
_IDLE_LEAVES = ("epoll_wait", "epoll_pwait")


@dataclass(frozen=True, slots=True)
class Share:
    category: str
    samples: int
    fraction: float


def parse(lines: Iterable[str]) -> tuple[Counter[str], int, int]:
    """Samples per category of the event-loop thread busy in Python, how many of them, and
    how many samples the file holds in all."""
    categories: Counter[str] = Counter()
    main = total = 0
    for line in lines:
        stack, _, count_text = line.rstrip("\n").rpartition(" ")
        if not count_text.isdigit():
            continue
        count = int(count_text)
        total += count
        frames = stack.split(";")
        if not any(_MAIN_THREAD_MARK in frame for frame in frames):
            continue  # thread pools
        if frames[-1].startswith(_IDLE_LEAVES):
            continue
        main += count
        categories[categorize(frames)] += count
    return categories, main, total


def categorize(frames: Sequence[str]) -> str:
    for category, markers in RULES:
        if any(marker in frame for marker in markers for frame in frames):
            return category
    python = [frame for frame in frames if ".py:" in frame]
    return IN_LOOP if python and python[-1].startswith(_LOOP_FRAMES) else OTHER


def summarize(path: Path) -> tuple[list[Share], int, int]:
    with path.open(encoding="utf-8") as file:
        categories, main, total = parse(file)
    shares = [
        Share(category, samples, samples / main if main else 0.0)
        for category, samples in categories.most_common()
    ]
    return shares, main, total


def markdown(shares: Sequence[Share], cpu_ms_per_request: float | None) -> str:
    head = "| where | share of busy event-loop samples |"
    rule = "|---|---:|"
    if cpu_ms_per_request is not None:
        head += " ms per request |"
        rule += "---:|"
    lines = [head, rule]
    for share in shares:
        row = f"| {share.category} | {share.fraction * 100:.1f} % |"
        if cpu_ms_per_request is not None:
            row += f" {share.fraction * cpu_ms_per_request:.2f} |"
        lines.append(row)
    return "\n".join(lines)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("profiles", type=Path, nargs="+", help="py-spy record --format raw")
    parser.add_argument("--cpu-ms-per-request", type=float, default=None)
    args = parser.parse_args()
    for path in args.profiles:
        shares, main_samples, total = summarize(path)
        print(f"{path}: {main_samples:,} busy event-loop samples of {total:,}\n")
        print(markdown(shares, args.cpu_ms_per_request) + "\n")


if __name__ == "__main__":
    main()
