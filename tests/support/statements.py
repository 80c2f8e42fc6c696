"""Counting SQL statements: what a request costs, asserted as work done, not time."""

from collections.abc import Iterator
from contextlib import contextmanager
from typing import Any

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
