"""Slot changes heard from Redis, for the `slotsChanged` subscriptions of this process.

One pub/sub connection per process listens to CHANGES_CHANNEL, where every process
announces the changes it committed (services/slot_cache.py). Subscribers of one
doctor-day share a DayWatch: a change bumps its version once, however many listen,
and the day is computed once per version for all of them. Changes that arrive while a
day is being computed are folded into the next computation: a burst costs at most one
computation in flight and one after it, per doctor-day and process.

When the connection is lost (Redis down, or silent for LOST_AFTER_SECONDS) every watch
ends with ServiceUnavailable: changes may have been missed, and the client is told to
subscribe again rather than left with slots that may be stale. The next watch connects
again.
"""

import asyncio
import contextlib
import logging
import time
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable
from datetime import date
from typing import Any, Generic, TypeVar

from redis.asyncio import Redis
from redis.asyncio.client import PubSub
from redis.exceptions import RedisError

from services.errors import ServiceUnavailable
from services.slot_cache import CHANGES_CHANNEL, StaleDays

logger = logging.getLogger("services.slot_feed")

T = TypeVar("T")

FEED_LOST = "Live slot updates were interrupted (Redis unreachable); subscribe again."
# The connection is pinged when idle; without any answer for this long it counts as lost.
PING_INTERVAL_SECONDS = 1.0
LOST_AFTER_SECONDS = 3.0


class DayWatch(Generic[T]):
    """One doctor-day watched by this process's subscribers."""

    def __init__(self) -> None:
        self.version = 0
        self.subscribers = 0
        self.lost = False
        # Set, and replaced by a fresh one, at each change: whoever waited on it wakes.
        self._changed = asyncio.Event()
        self._computing: asyncio.Future[T] | None = None
        self._computing_version = -1

    def bump(self) -> None:
        self.version += 1
        self._wake()

    def end(self) -> None:
        self.lost = True
        self._wake()

    def _wake(self) -> None:
        self._changed.set()
        self._changed = asyncio.Event()

    async def next_version(self, seen: int) -> int:
        """The current version once it is past ``seen``."""
        while not self.lost and self.version <= seen:
            await self._changed.wait()
        if self.lost:
            raise ServiceUnavailable(FEED_LOST)
        return self.version

    async def computed(self, compute: Callable[[], Awaitable[T]]) -> tuple[int, T]:
        """The day as of the current version (or a later one), with that version:
        computed by whichever subscriber asks first, awaited by the others, and at
        most one computation at a time."""
        while True:
            task, version = self._computing, self._computing_version
            if task is not None and not task.done():
                if version == self.version:
                    return version, await asyncio.shield(task)
                with contextlib.suppress(Exception):
                    await asyncio.shield(task)
                continue
            if (
                task is not None
                and version == self.version
                and not task.cancelled()
                and task.exception() is None
            ):
                return version, task.result()
            self._computing_version = self.version
            self._computing = asyncio.ensure_future(compute())


class SlotFeed:
    def __init__(self, redis_url: str, *, timeout_s: float) -> None:
        self.redis_url = redis_url
        self.timeout_s = timeout_s
        self._days: dict[uuid.UUID, dict[date, DayWatch[Any]]] = {}
        self._listening: asyncio.Task[None] | None = None
        self._subscribed: asyncio.Future[None] | None = None

    @property
    def watched_days(self) -> int:
        return sum(len(days) for days in self._days.values())

    @contextlib.asynccontextmanager
    async def watching(self, doctor_id: uuid.UUID, day: date) -> AsyncIterator[DayWatch[Any]]:
        """The day's watch, once this process hears every change announced after it
        was entered. ServiceUnavailable when Redis cannot be reached."""
        await self._listen()
        days = self._days.setdefault(doctor_id, {})
        watch = days.get(day)
        if watch is None:
            watch = days[day] = DayWatch()
        watch.subscribers += 1
        try:
            yield watch
        finally:
            watch.subscribers -= 1
            if watch.subscribers == 0 and self._days.get(doctor_id, {}).get(day) is watch:
                del self._days[doctor_id][day]
                if not self._days[doctor_id]:
                    del self._days[doctor_id]

    async def close(self) -> None:
        if self._listening is not None:
            self._listening.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._listening

    async def _listen(self) -> None:
        if self._listening is None or self._listening.done():
            self._subscribed = asyncio.get_running_loop().create_future()
            self._listening = asyncio.create_task(self._run(self._subscribed))
        assert self._subscribed is not None
        try:
            async with asyncio.timeout(self.timeout_s):
                await asyncio.shield(self._subscribed)
        except (TimeoutError, RedisError, OSError):
            raise ServiceUnavailable(FEED_LOST) from None

    async def _run(self, subscribed: "asyncio.Future[None]") -> None:
        client = Redis.from_url(
            self.redis_url,
            socket_connect_timeout=self.timeout_s,
            socket_timeout=LOST_AFTER_SECONDS,
            max_connections=1,
        )
        try:
            async with client.pubsub() as pubsub:
                await pubsub.subscribe(CHANGES_CHANNEL)
                await self._relay(pubsub, subscribed)
        except (RedisError, OSError, TimeoutError) as error:
            logger.warning("slot feed lost: %s", type(error).__name__)
            if not subscribed.done():
                subscribed.set_exception(error)
                subscribed.exception()  # whoever waited has been told; nobody else must be
        finally:
            self._end_every_watch()
            with contextlib.suppress(RedisError, OSError):
                await client.aclose()

    async def _relay(self, pubsub: PubSub, subscribed: "asyncio.Future[None]") -> None:
        heard = time.monotonic()
        while True:
            message = await pubsub.get_message(timeout=PING_INTERVAL_SECONDS)
            now = time.monotonic()
            if message is None:
                if now - heard > LOST_AFTER_SECONDS:
                    raise TimeoutError
                await pubsub.ping()
                continue
            heard = now
            if message["type"] == "subscribe" and not subscribed.done():
                subscribed.set_result(None)
            elif message["type"] == "message":
                try:
                    stale = StaleDays.decode(message["data"])
                except (ValueError, KeyError, TypeError):
                    # Not from a process of this version: nothing to act on.
                    logger.warning("slot feed: a message it cannot read was ignored")
                    continue
                self._dispatch(stale)

    def _dispatch(self, stale: StaleDays) -> None:
        for day, watch in self._days.get(stale.doctor_id, {}).items():
            if stale.covers(day):
                watch.bump()

    def _end_every_watch(self) -> None:
        days, self._days = self._days, {}
        for watches in days.values():
            for watch in watches.values():
                watch.end()
