"""Sessions of one request on one connection.

A request used to check out a connection (with a pre-ping: three round trips) for every
session its resolvers, loaders and audit trail opened, and to wrap even a single SELECT
in BEGIN and ROLLBACK. Here every session of a request shares ONE connection, taken
from the pool when the first statement needs it and given back when the request ends:

- a session used without ``begin()`` only reads, and its statements run without a
  transaction (autocommit), so a read costs its own round trip and nothing more: under
  READ COMMITTED each statement of a transaction sees its own snapshot anyway. Such a
  session refuses to flush ORM changes: writes belong in ``sessions.begin()``;
- ``sessions.begin()`` (or ``session.begin()``) is a transaction, BEGIN to COMMIT, as
  before;
- ``sessions.atomic_statements()`` is for a change made in one statement (a booking's
  INSERT with its outbox message in CTEs): each statement is its own transaction, with
  no BEGIN or COMMIT round trip around it. Unlike a read, such a statement is never
  sent again after a lost connection: it may have committed;
- a session opened while another one of the same request holds the connection (fields
  resolved concurrently, a loader awaited inside a transaction) takes its own
  connection from the pool, set up the same way: reads and atomic statements without a
  transaction (a booking's INSERT, never committed explicitly, must commit there too),
  ``begin()`` in one.

A request's hot statements skip the session: :meth:`RequestSessions.rows` and
:meth:`RequestSessions.execute_atomic` send a Core statement compiled once
(:mod:`db.direct_statements`) straight to asyncpg on the request's connection, without a
greenlet once the connection is taken. While another session holds it, they run through a
session of their own, as any statement would.

No pre-ping: a connection the server closed (a restart, an idle timeout) is noticed
at checkout for free (see :mod:`db.engine`), and a read that still meets a dead one is
sent again once on a fresh connection: outside a transaction nothing else was lost. So
is a direct change that asyncpg refused to send: in the turn of the event loop between
the server's last message and the end of its stream, the connection does not look
closed yet, and asyncpg refuses (and closes it) before sending anything.
"""

import functools
from collections.abc import Mapping, Sequence
from typing import Any, cast

import asyncpg
from sqlalchemy import Select, event
from sqlalchemy.engine import Connection, CursorResult, Dialect, Engine
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine, AsyncSession, async_sessionmaker
from sqlalchemy.orm import Session, SessionTransaction
from sqlalchemy.sql.dml import UpdateBase
from sqlalchemy.util import greenlet_spawn

from db.direct_statements import DirectStatement, compiled

AUTOCOMMIT = "AUTOCOMMIT"
READS_ONLY = (
    "A session opened with sessions() only reads (its statements run without a "
    "transaction); make changes in `async with sessions.begin() as session`."
)


@functools.lru_cache(maxsize=8)
def _autocommit(engine: Engine) -> Engine:
    """``engine`` without transactions; made once, not by every request (170 calls)."""
    return engine.execution_options(isolation_level=AUTOCOMMIT)


class RequestConnection:
    """The one pooled connection a request's sessions share, lent to one session at a time."""

    def __init__(self, engine: Engine) -> None:
        self._engine = engine
        self._connection: Connection | None = None
        # A session, or a direct statement's token while it runs.
        self._holder: object | None = None
        self._isolation: str | None = None  # what the connection was last set to

    def lend(self, session: object, *, transactional: bool) -> Connection | Engine:
        """The request's connection for ``session``, set up for a transaction or for
        reads alone; while another session of the request holds it, an engine (a
        connection of its own) set up the same way."""
        if self._holder is not None and self._holder is not session:
            return self._engine if transactional else _autocommit(self._engine)
        # Held before it is taken: taking it from the pool may wait on the event loop,
        # where another field's session would otherwise take a second one and orphan it.
        self._holder = session
        try:
            if self._connection is None:
                self._connection = self._engine.connect()
            elif not self._connection.invalidated and _driver(self._connection).is_closed():
                # Died since the request's last statement: nothing was lost. (Reading
                # the driver of an invalidated one would reconnect it before prepare()
                # sets the new connection up.)
                self._connection.invalidate()
            self.prepare(transactional=transactional)
        except BaseException:
            self._holder = None
            raise
        return self._connection

    def prepare(self, *, transactional: bool) -> None:
        connection = self._connection
        assert connection is not None
        wanted = connection.default_isolation_level if transactional else AUTOCOMMIT
        # After a disconnect the next statement reconnects: set the new connection up.
        if wanted != self._isolation or connection.invalidated:
            connection.execution_options(isolation_level=wanted)
            self._isolation = wanted

    def lend_driver(self, holder: object) -> asyncpg.Connection | None:
        """asyncpg's connection under the request's, for reads alone, or None while
        another session holds it. Taking it from the pool, setting it up or replacing a
        dead one does I/O: call in a greenlet unless :attr:`driver_at_hand`."""
        if self._holder is not None:
            return None
        connection = self.lend(holder, transactional=False)
        assert connection is self._connection
        return _driver(connection)

    @property
    def driver_at_hand(self) -> bool:
        """Whether :meth:`lend_driver` would do no I/O: the connection is taken, free,
        open, and already set up for reads alone."""
        connection = self._connection
        return (
            connection is not None
            and self._holder is None
            and self._isolation == AUTOCOMMIT
            and not connection.invalidated
            and not _driver(connection).is_closed()
        )

    @property
    def dialect(self) -> Dialect:
        return self._engine.dialect

    def announce(self, sql: str, arguments: Sequence[Any]) -> None:
        """A direct statement, to the engine's ``before_cursor_execute`` listeners (what
        counts statements in the tests), with no cursor and no execution context: a
        tracer's listeners need both, so a traced engine gets no direct statements."""
        self._engine.dispatch.before_cursor_execute(
            self._connection, None, sql, tuple(arguments), None, False
        )

    def holds(self, session: object) -> bool:
        return self._holder is session and self._connection is not None

    def give_back(self, session: object) -> None:
        if self._holder is session:
            self._holder = None

    @property
    def taken(self) -> bool:
        """Whether a connection was taken from the pool (and not yet given back)."""
        return self._connection is not None

    def close(self) -> None:
        """Back to the pool, which resets it (no round trip: nothing is left open)."""
        connection, self._connection, self._holder = self._connection, None, None
        self._isolation = None
        if connection is not None:
            connection.close()


def _refused_to_send(error: asyncpg.InternalClientError) -> bool:
    """Whether asyncpg refused a statement before sending any of it, because its
    protocol is out of step with the server: it has read the server's last message
    (FATAL: the connection ends) but not yet the end of the stream, so the connection
    did not look closed. asyncpg closes it as it refuses (its ``_set_state``)."""
    return str(error).startswith("cannot switch to state")


def _driver(connection: Connection) -> asyncpg.Connection:
    return cast(asyncpg.Connection, connection.connection.driver_connection)


class RequestSession(Session):
    """A session on the request's connection (see the module's docstring)."""

    def __init__(
        self, *, request_connection: RequestConnection, writes: bool = False, **kw: Any
    ) -> None:
        super().__init__(**kw)
        self._request_connection = request_connection
        self._bind: Connection | Engine | None = None
        self._explicit = False  # begin() was called: a transaction, not reads alone
        self._writes = writes  # atomic_statements(): its statements may change rows

    @property
    def bound(self) -> bool:
        """Whether it was lent a connection (or an engine) since it was last closed."""
        return self._bind is not None

    def get_bind(self, *args: Any, **kw: Any) -> Engine | Connection:
        if self._bind is None:
            self._bind = self._request_connection.lend(self, transactional=self._explicit)
        return self._bind

    def begin(self, nested: bool = False) -> SessionTransaction:
        transaction = super().begin(nested)
        if not nested:
            self._explicit = True
            if self._request_connection.holds(self):
                self._request_connection.prepare(transactional=True)
            else:
                self._bind = None  # an engine lent for reads alone would not hold it
        return transaction

    def close(self) -> None:
        try:
            super().close()
        finally:
            self._request_connection.give_back(self)
            self._bind, self._explicit = None, False

    def _reads_alone(self) -> bool:
        return not (self._explicit or self._writes) and self._request_connection.holds(self)

    def _retrying(self, method: Any, *args: Any, **kw: Any) -> Any:
        try:
            return method(*args, **kw)
        except DBAPIError as error:
            # A read alone met a dead connection: nothing else was lost, send it again.
            if not (error.connection_invalidated and self._reads_alone()):
                raise
            self.rollback()
            self._bind = None
            return method(*args, **kw)

    def execute(self, *args: Any, **kw: Any) -> Any:
        return self._retrying(super().execute, *args, **kw)

    def scalar(self, *args: Any, **kw: Any) -> Any:
        return self._retrying(super().scalar, *args, **kw)

    def scalars(self, *args: Any, **kw: Any) -> Any:
        return self._retrying(super().scalars, *args, **kw)


class _RequestAsyncSession(AsyncSession):
    """Closed for nothing when it sent nothing: a booking's session is needed only when
    the day is not cached or the slot is refused, and AsyncSession's close costs a task
    and a greenlet even then."""

    async def __aexit__(self, type_: Any, value: Any, traceback: Any) -> None:
        if self._holds_anything():
            await super().__aexit__(type_, value, traceback)

    async def close(self) -> None:
        if self._holds_anything():
            await super().close()

    def _holds_anything(self) -> bool:
        session = self.sync_session
        assert isinstance(session, RequestSession)
        return session.bound or session.in_transaction() or bool(session.identity_map)


@event.listens_for(RequestSession, "before_flush")
def _refuse_writes_outside_transactions(session: Session, *_: Any) -> None:
    assert isinstance(session, RequestSession)
    if not session._explicit:
        raise RuntimeError(READS_ONLY)


class RequestSessions(async_sessionmaker[AsyncSession]):
    """What ``Context.sessions`` is: called like the engine's ``async_sessionmaker``
    (``sessions()``, ``sessions.begin()``), on one connection per request."""

    def __init__(self, engine: AsyncEngine, *, direct: bool = True) -> None:
        """``direct=False`` sends every statement through a session: for a traced engine,
        whose tracer follows each statement through SQLAlchemy's engine events."""
        super().__init__(engine, expire_on_commit=False)
        self._connection = RequestConnection(engine.sync_engine)
        self._direct = direct

    def __call__(self, **local_kw: Any) -> AsyncSession:
        return _RequestAsyncSession(
            sync_session_class=RequestSession,
            request_connection=self._connection,
            expire_on_commit=False,
            **local_kw,
        )

    def atomic_statements(self) -> AsyncSession:
        """A session whose statements each commit alone (see the module's docstring)."""
        return self(writes=True)

    async def rows(
        self, statement: Select[Any], parameters: Mapping[str, Any]
    ) -> Sequence[Sequence[Any]]:
        """The rows a read selects, as ``session.execute(...).all()`` gives them. Sent
        again once on a fresh connection if the request's died under it."""
        tries = 2
        while True:
            tries -= 1
            driver = await self._take_driver()
            if driver is None:
                return await _session_rows(self(), statement, parameters)
            try:
                direct, arguments = self._prepared(statement, parameters)
                records = await driver.fetch(direct.sql, *arguments)
                return direct.rows(cast("Sequence[Sequence[Any]]", records))
            except Exception:
                # The next lend_driver replaces a connection that died.
                if tries == 0 or not driver.is_closed():
                    raise
            finally:
                self._connection.give_back(self)

    async def execute_atomic(
        self,
        statement: Select[Any] | UpdateBase,
        parameters: Mapping[str, Any],
        *,
        beside: AsyncSession | None = None,
    ) -> Sequence[Sequence[Any]]:
        """A change made by one statement, committed by itself (as in
        :meth:`atomic_statements`): the rows it returns (RETURNING), as
        ``session.execute(...).all()`` gives them, and the IntegrityError a session raises
        for a constraint it breaks. Never sent twice: if the connection dies under it, it
        may have committed, and the caller hears of it. One asyncpg refused to send goes
        once more on a new connection.

        ``beside``: an :meth:`atomic_statements` session of the caller's; if it holds the
        request's connection, the statement goes through it, not through a second
        connection (a crowd of requests each waiting for a second one would wait for
        each other)."""
        tries = 2
        while True:
            tries -= 1
            driver = await self._take_driver()
            if driver is None:
                if beside is not None and self._connection.holds(beside.sync_session):
                    return await _rows_of(beside, statement, parameters)
                return await _committed_alone(self.atomic_statements(), statement, parameters)
            try:  # a dead connection is replaced at the request's next statement
                direct, arguments = self._prepared(statement, parameters)
                records = await driver.fetch(direct.sql, *arguments)
                return direct.rows(cast("Sequence[Sequence[Any]]", records))
            except asyncpg.IntegrityConstraintViolationError as error:
                raise IntegrityError(direct.sql, None, error) from error
            except asyncpg.InternalClientError as error:
                if tries == 0 or not _refused_to_send(error):
                    raise
            finally:
                self._connection.give_back(self)

    def _prepared(
        self, statement: Select[Any] | UpdateBase, parameters: Mapping[str, Any]
    ) -> tuple[DirectStatement, list[Any]]:
        direct = compiled(statement, self._connection.dialect)
        arguments = direct.arguments(parameters)
        self._connection.announce(direct.sql, arguments)
        return direct, arguments

    async def _take_driver(self) -> asyncpg.Connection | None:
        """The request's asyncpg connection, held by this object until given back, or
        None while a session holds it (or when statements go through sessions). No
        greenlet once the connection is taken."""
        if not self._direct:
            return None
        connection = self._connection
        if connection.driver_at_hand:
            return connection.lend_driver(self)
        driver: asyncpg.Connection | None = await greenlet_spawn(connection.lend_driver, self)
        return driver

    async def close(self) -> None:
        """At the end of the request (again is harmless). A request that sent no
        statement (a cached read) took no connection, and costs no greenlet here."""
        if self._connection.taken:
            await greenlet_spawn(self._connection.close)


async def read_rows(
    sessions: async_sessionmaker[AsyncSession],
    statement: Select[Any],
    parameters: Mapping[str, Any],
) -> Sequence[Sequence[Any]]:
    """The rows a read of Core columns selects: straight to asyncpg within a request
    (:meth:`RequestSessions.rows`), through a session of ``sessions`` elsewhere."""
    if isinstance(sessions, RequestSessions):
        return await sessions.rows(statement, parameters)
    return await _session_rows(sessions(), statement, parameters)


async def execute_atomically(
    sessions: async_sessionmaker[AsyncSession],
    statement: Select[Any] | UpdateBase,
    parameters: Mapping[str, Any],
) -> Sequence[Sequence[Any]]:
    """A change made and committed by one statement, and the rows it returns
    (:meth:`RequestSessions.execute_atomic` within a request)."""
    if isinstance(sessions, RequestSessions):
        return await sessions.execute_atomic(statement, parameters)
    return await _committed_alone(sessions(), statement, parameters)


async def _session_rows(
    opened: AsyncSession, statement: Select[Any], parameters: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    async with opened as session:
        result = await session.execute(statement, parameters)
        return cast("Sequence[Sequence[Any]]", result.all())


async def _committed_alone(
    opened: AsyncSession, statement: Select[Any] | UpdateBase, parameters: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    async with opened as session:
        rows = await _rows_of(session, statement, parameters)
        await session.commit()
        return rows


async def _rows_of(
    session: AsyncSession, statement: Select[Any] | UpdateBase, parameters: Mapping[str, Any]
) -> Sequence[Sequence[Any]]:
    result = await session.execute(statement, parameters)
    returns_rows = not isinstance(result, CursorResult) or result.returns_rows
    return cast("Sequence[Sequence[Any]]", result.all() if returns_rows else [])
