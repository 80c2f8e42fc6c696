"""Where a server's time goes: py-spy samples of the event-loop thread sorted into
categories (the first rule whose marker appears in a sample's stack takes it)."""

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

PROFILE_RATE = 200
GC_FRAMES = ("gc_collect_main", "gc_collect_with_callback", "gc_collect_generations")
GC_CATEGORY = "GC: cyclic garbage collector (all generations)"

# (category, frame substrings): a sample of the event-loop thread goes to the first rule with
# any substring in any of its frames. Order matters: specific work before the layers under it.
PHASES: tuple[tuple[str, tuple[str, ...]], ...] = (
    (GC_CATEGORY, GC_FRAMES),
    ("uvicorn access log", ("logging/__init__.py", "uvicorn/logging.py")),
    ("token: verify_access (Ed25519, joserfc)", ("TokenService.verify_access",)),
    ("token: revoked check (Redis EXISTS)", ("is_revoked",)),
    ("links: signing (botocore presign)", ("generate_presigned_url",)),
    ("links: loader, reuse lookups, audit events", ("load_document_urls", "read_url (medappt/")),
    # SQLAlchemy runs statements in a greenlet, where stacks lose the caller's frames: the
    # statements are told apart by what they do, and round-trip overheads are pooled.
    ("SQL: pool pre-ping (a round trip at each checkout)", ("_async_ping", "do_ping")),
    (
        "SQL: BEGIN / COMMIT / ROLLBACK, session close, pool return",
        (
            "asyncpg/transaction.py",
            "_start_transaction",
            "Session.close",
            "SessionTransaction.close",
            "SessionTransaction.commit",
            "_finalize_fairy",
        ),
    ),
    ("SQL: audit INSERT statement", ("AuditTrail.flush", "bulk_persistence.py", "_audit (bench/")),
    (
        "SQL: the SELECTs (patient and records loaders, ORM rows)",
        ("load_readable_patients", "load_records", "orm_execute_statement (", "fetch (asyncpg"),
    ),
    ("GraphQL: build Connection/edges/nodes (resolver)", ("from_page", "from_model")),
    ("SQL: other (sessions, connections)", ("sqlalchemy/", "asyncpg/")),
    ("GraphQL: parse + validate (cached)", ("graphql/language/", "graphql/validation/")),
    (
        "GraphQL: execute (graphql-core + Strawberry fields)",
        ("graphql/execution/", "schema/fast_executor/"),
    ),
    ("DataLoader scheduling", ("aiodataloader/",)),
    ("context: loaders, audit trail", ("build_context", "get_context")),
    ("JSON: response encode", ("json/encoder", "dumps (json/")),
    ("JSON: request decode", ("json/decoder", "loads (json/")),
    ("Strawberry HTTP view + schema hooks", ("strawberry/",)),
    ("baseline handler (bench/records/baseline.py)", ("records/baseline.py",)),
    ("HTTP: Starlette + uvicorn", ("starlette/", "uvicorn/protocols", "uvicorn/middleware")),
    ("event loop: uvloop, task steps, deallocation", ("",)),
)

# Where SQL samples are spent, whatever the statement (GC excluded).
SQL_LAYERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("ORM: row materialization (orm/loading.py)", ("sqlalchemy/orm/loading.py",)),
    ("SQLAlchemy: compile / cache key", ("sql/compiler.py", "cache_key.py", "_compile_w_cache")),
    ("asyncpg: protocol + decoding", ("asyncpg/", "asyncpg.pgproto", "protocol.c")),
    ("SQLAlchemy asyncpg dialect adaptation", ("dialects/postgresql/asyncpg.py",)),
    ("SQLAlchemy pool checkout/return", ("sqlalchemy/pool/",)),
    ("SQLAlchemy session / result / other", ("sqlalchemy/",)),
)

# Inside "GraphQL: execute", by the innermost Python frame (self time), GC excluded.
EXECUTE_OWNERS: tuple[tuple[str, tuple[str, ...]], ...] = (
    ("fast executor (schema/fast_executor/)", ("schema/fast_executor/",)),
    ("graphql-core executor (complete_*, execute_fields, paths)", ("graphql/",)),
    ("asyncio (tasks, futures, gather)", ("asyncio/", "_weakrefset.py")),  # _ASYNCIO_OWNER
    ("Strawberry field wrappers, scalars, is_type_of", ("strawberry/",)),
    ("DataLoader (load, cache)", ("aiodataloader/",)),
    ("SQLAlchemy attribute access on rows", ("sqlalchemy/",)),
    ("the project's types and resolvers", ("schema/", "resolvers/", "domain/", "loaders/")),
    ("other", ("",)),
)

_ASYNCIO_OWNER = "asyncio (tasks, futures, gather)"
_MAIN_THREAD_MARK = "uvicorn/server.py"
_ASYNCIO_NATIVE = ("_asynciomodule.c", "(loop.c", "loop.cpython", "_asyncio")


@dataclass(frozen=True, slots=True)
class Profile:
    phases: Counter[str]
    sql_layers: Counter[str]
    gc_triggers: Counter[str]  # GC samples by the phase that triggered the collection
    execute_owners: Counter[str]
    main_samples: int
    all_samples: int


def _first(rules: Sequence[tuple[str, tuple[str, ...]]], frames: Sequence[str]) -> str | None:
    for category, markers in rules:
        if any(marker in frame for marker in markers for frame in frames):
            return category
    return None


def _execute_owner(frames: Sequence[str]) -> str:
    python = [i for i, frame in enumerate(frames) if ".py:" in frame]
    innermost = python[-1] if python else 0
    if any(any(m in frame for m in _ASYNCIO_NATIVE) for frame in frames[innermost + 1 :]):
        return _ASYNCIO_OWNER
    return _first(EXECUTE_OWNERS, frames[innermost : innermost + 1]) or EXECUTE_OWNERS[-1][0]


def _event_loop_thread(frames: Sequence[str]) -> bool:
    """Whether a sample is of uvicorn's thread: named by ``--threads``; without it, known
    by uvicorn's frame (which native unwinding sometimes loses)."""
    if frames and frames[0].startswith("thread ("):
        return frames[0].endswith(": MainThread")
    return any(_MAIN_THREAD_MARK in frame for frame in frames)


def read_profile(path: Path) -> Profile:
    profile = Profile(Counter(), Counter(), Counter(), Counter(), 0, 0)
    main = total = 0
    with path.open(encoding="utf-8") as lines:
        for line in lines:
            stack, _, count_text = line.rstrip("\n").rpartition(" ")
            if not count_text.isdigit():
                continue
            count = int(count_text)
            total += count
            frames = stack.split(";")
            if not _event_loop_thread(frames):
                continue
            main += count
            phase = _first(PHASES, frames) or PHASES[-1][0]
            profile.phases[phase] += count
            if phase == GC_CATEGORY:
                profile.gc_triggers[_first(PHASES[1:], frames) or PHASES[-1][0]] += count
                continue
            layer = _first(SQL_LAYERS, frames)
            if layer is not None:
                profile.sql_layers[layer] += count
            if phase.startswith("GraphQL: execute"):
                profile.execute_owners[_execute_owner(frames)] += count
    return Profile(
        profile.phases,
        profile.sql_layers,
        profile.gc_triggers,
        profile.execute_owners,
        main,
        total,
    )
