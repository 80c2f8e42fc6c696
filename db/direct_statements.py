"""Core statements compiled once for asyncpg, and sent to it without SQLAlchemy in between.

A statement run through a session costs 0.3 ms of CPU here before asyncpg sees it (the
session, the execution context, a greenlet, the result object), against 0.07 ms for
asyncpg alone. A request's hot statements (a patient, a page of records, the audit rows)
are written as Core statements as usual; :class:`DirectStatement` keeps what SQLAlchemy
would have sent (its SQL text, the order of its parameters, their bind processors and
the result processors of its columns), so the same statement runs either way with the
same values in and out.
"""

import functools
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Select
from sqlalchemy.engine import Dialect
from sqlalchemy.exc import InvalidRequestError
from sqlalchemy.sql.compiler import SQLCompiler
from sqlalchemy.sql.elements import ClauseElement

Processor = Callable[[Any], Any]


@dataclass(frozen=True, slots=True)
class DirectStatement:
    sql: str
    names: tuple[str, ...]  # of the parameters, in the order of $1, $2, ...
    defaults: Mapping[str, Any]  # values given in the statement (literals)
    bind_processors: Mapping[str, Processor]
    result_processors: tuple[tuple[int, Processor], ...]  # by column index

    def arguments(self, parameters: Mapping[str, Any]) -> list[Any]:
        values = []
        for name in self.names:
            if name in parameters:
                value = parameters[name]
            elif name in self.defaults:
                value = self.defaults[name]
            else:  # as SQLAlchemy says it
                raise InvalidRequestError(f"A value is required for bind parameter {name!r}")
            processor = self.bind_processors.get(name)
            values.append(value if processor is None or value is None else processor(value))
        return values

    def rows(self, records: Sequence[Sequence[Any]]) -> Sequence[Sequence[Any]]:
        """Rows as the session's result would give them (columns processed)."""
        if not self.result_processors:
            return records
        processed = []
        for record in records:
            row = list(record)
            for index, processor in self.result_processors:
                row[index] = processor(row[index])
            processed.append(row)
        return processed


@functools.cache
def compiled(statement: ClauseElement, dialect: Dialect) -> DirectStatement:
    """``statement`` as ``dialect`` (asyncpg's) sends it: compiled once per statement, as
    the statements themselves are built once."""
    compiler = statement.compile(dialect=dialect)
    assert isinstance(compiler, SQLCompiler)
    names = tuple(compiler.positiontup or ())
    binds = {name: compiler.binds[name] for name in names}
    if compiler.literal_execute_params or any(
        bind.expanding or bind.callable is not None for bind in binds.values()
    ):
        # Their SQL text is made per execution, which is what this module avoids.
        raise ValueError(
            "a direct statement takes no expanding, literal-execute or callable parameters"
        )
    bind_processors = {}
    for name, bind in binds.items():
        processor = bind.type.dialect_impl(dialect).bind_processor(dialect)
        if processor is not None:
            bind_processors[name] = processor
    columns = statement.selected_columns if isinstance(statement, Select) else ()
    result_processors = []
    for index, column in enumerate(columns):
        processor = column.type.dialect_impl(dialect).result_processor(dialect, None)
        if processor is not None:
            result_processors.append((index, processor))
    return DirectStatement(
        sql=compiler.string,
        names=names,
        defaults={name: bind.value for name, bind in binds.items() if not bind.required},
        bind_processors=bind_processors,
        result_processors=tuple(result_processors),
    )
