"""Counting SQL statements: what a request costs, asserted as work done, not time."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

import asyncpg
import asyncpg.connection
import asyncpg.prepared_stmt
from sqlalchemy import event
from sqlalchemy.engine import Engine


class StatementLog:
    def __init__(self) -> None:
        self.statements: list[str] = []

    @property
    def count(self) -> int:
        return len(self.statements)


@contextmanager
def counting_statements() -> Iterator[StatementLog]:
    """Every statement any engine in this process sends while the block runs."""
    log = StatementLog()

    def record(*args: Any) -> None:
        log.statements.append(args[2])

    event.listen(Engine, "before_cursor_execute", record)
    try:
        yield log
    finally:
        event.remove(Engine, "before_cursor_execute", record)


class RoundTripLog:
    def __init__(self) -> None:
        # What went to PostgreSQL, one entry per round trip: a statement's text, or
        # BEGIN, COMMIT, ROLLBACK (with their options) and ";" (a pre-ping).
        self.sent: list[str] = []

    @property
    def count(self) -> int:
        return len(self.sent)


@contextmanager
def counting_round_trips() -> Iterator[RoundTripLog]:
    """Every round trip SQLAlchemy's connections make to PostgreSQL while the block runs:
    each statement, each BEGIN, COMMIT and ROLLBACK, each pre-ping. (A statement's first
    use on a connection also prepares it, once: not counted, so counts do not depend on
    which pooled connection a request got.) Counted in asyncpg's Python layer, which
    every SQLAlchemy statement and every direct one (db/direct_statements.py) passes
    through; the servers are real."""
    log = RoundTripLog()
    statement_fetch = asyncpg.prepared_stmt.PreparedStatement.fetch
    connection_execute = asyncpg.connection.Connection.execute
    connection_fetch = asyncpg.connection.Connection.fetch
    connection_fetchrow = asyncpg.connection.Connection.fetchrow
    connection_executemany = asyncpg.connection.Connection.executemany

    async def fetch(self: Any, *args: Any, **kwargs: Any) -> Any:
        log.sent.append(self.get_query())
        return await statement_fetch(self, *args, **kwargs)

    async def execute(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        log.sent.append(query)
        return await connection_execute(self, query, *args, **kwargs)

    async def connection_level_fetch(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        log.sent.append(query)
        return await connection_fetch(self, query, *args, **kwargs)

    async def fetchrow(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        log.sent.append(query)
        return await connection_fetchrow(self, query, *args, **kwargs)

    async def executemany(self: Any, query: str, *args: Any, **kwargs: Any) -> Any:
        log.sent.append(query)
        return await connection_executemany(self, query, *args, **kwargs)

    patches = [
        (asyncpg.prepared_stmt.PreparedStatement, "fetch", fetch),
        (asyncpg.connection.Connection, "execute", execute),
        (asyncpg.connection.Connection, "fetch", connection_level_fetch),
        (asyncpg.connection.Connection, "fetchrow", fetchrow),
        (asyncpg.connection.Connection, "executemany", executemany),
    ]
    originals = [(cls, name, getattr(cls, name)) for cls, name, _ in patches]
    for cls, name, spy in patches:
        setattr(cls, name, spy)
    try:
        yield log
    finally:
        for cls, name, original in originals:
            setattr(cls, name, original)
