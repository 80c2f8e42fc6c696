"""Computed slots in Redis, per doctor, clinic and date, for five minutes.

A cached day counts only while nothing that decides it has changed. Five stamps per
day say when that last happened. Three for the doctor's schedule: the doctor's (every
day of theirs, e.g. deactivation), the doctor's weekday (a template of that weekday) and
the doctor's date (an exception on it). Two for who has which time (bookings,
cancellations, holds): the doctor's and the date's. After a change commits, the stamps
it affects are set to a fresh value, larger than any handed out before (a counter that
never falls behind Redis's clock). A day is stored with the largest of its stamps as
read before computing it, and is served only while that is still the largest. A read
that began before a change committed may finish after it, but what it stores carries an
older stamp and can never be served: a stale read cannot repopulate the cache. A day
stale only by bookings still has the schedule right (it is stored with the largest
schedule stamp too), which is all a booking asks of it: whether the time is taken is
PostgreSQL's to decide (:attr:`CacheRead.schedules`).

The same script announces each change on the ``slots:changed`` channel (services/slot_feed.py
listens), after the stamps are set: whoever recomputes a day on hearing of it reads the
new stamps, so never an old cached copy.
"""

import json
import logging
import uuid
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass
from datetime import date
from typing import NamedTuple

from redis.asyncio import Redis
from redis.exceptions import RedisError

from services.metrics import SLOT_CACHE_REQUESTS

logger = logging.getLogger("services.slot_cache")
_HITS = SLOT_CACHE_REQUESTS.labels(result="hit")
_MISSES = SLOT_CACHE_REQUESTS.labels(result="miss")
_UNAVAILABLE = SLOT_CACHE_REQUESTS.labels(result="unavailable")


class DayKey(NamedTuple):
    """One doctor's slots on one clinic-local date, at one clinic or (None) at all of theirs.
    A tuple: searches make and hash hundreds of them per request."""

    doctor_id: uuid.UUID
    date: date
    clinic_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class StaleDays:
    """The days of one doctor whose slots a change moved: every day, or those weekdays
    and dates. Cached copies of them must not be served once it commits."""

    doctor_id: uuid.UUID
    every_day: bool = False
    weekdays: frozenset[int] = frozenset()
    dates: frozenset[date] = frozenset()
    # Only who has which time changed (a booking, a cancellation, a hold), not the
    # doctor's schedule.
    bookings_only: bool = False

    def covers(self, day: date) -> bool:
        return self.every_day or day.isoweekday() in self.weekdays or day in self.dates

    def encode(self) -> str:
        return json.dumps(
            {
                "doctor": str(self.doctor_id),
                "everyDay": self.every_day,
                "weekdays": sorted(self.weekdays),
                "dates": sorted(day.isoformat() for day in self.dates),
                "bookingsOnly": self.bookings_only,
            },
            separators=(",", ":"),
        )

    @classmethod
    def decode(cls, data: bytes | str) -> "StaleDays":
        fields = json.loads(data)
        return cls(
            uuid.UUID(fields["doctor"]),
            every_day=fields["everyDay"],
            weekdays=frozenset(fields["weekdays"]),
            dates=frozenset(date.fromisoformat(day) for day in fields["dates"]),
            bookings_only=fields.get("bookingsOnly", False),
        )


TTL_SECONDS = 300
# A stamp must outlive the days stored under it; one that expires early only costs misses.
STAMP_TTL_SECONDS = 86_400


class Stamp(NamedTuple):
    """What a day was computed under: the largest of its five stamps, and of its three
    schedule stamps."""

    latest: int
    schedule: int


# The stamp of a day read while Redis did not answer: computed, served, never stored.
UNKNOWN_STAMP = Stamp(-1, -1)
_COUNTER = "slots:stamp"
# The counter rises with every change to any doctor's slots: public responses cached
# under a lower value are not served (services/public_responses.py).
SLOT_CHANGES_KEY = _COUNTER
# Every process's feed listens here; a message is one StaleDays, encoded.
CHANGES_CHANNEL = "slots:changed"

# KEYS[1] is the counter, the others the stamps to set; ARGV[1] their TTL, ARGV[2] the
# channel and the rest what to publish on it. Atomic, so no stamp is ever set to a value
# smaller than one already handed out, and a change is announced only once stamped.
_STAMP_SCRIPT = """
local now = redis.call('TIME')
local last = tonumber(redis.call('GET', KEYS[1]) or '0')
local stamp = string.format('%d', math.max(last + 1, now[1] * 1000000 + now[2]))
redis.call('SET', KEYS[1], stamp)
for i = 2, #KEYS do redis.call('SET', KEYS[i], stamp, 'EX', ARGV[1]) end
for i = 3, #ARGV do redis.call('PUBLISH', ARGV[2], ARGV[i]) end
return stamp
"""


def _doctor_stamp(doctor_id: uuid.UUID) -> str:
    return f"slots:stamp:{doctor_id}"


def _weekday_stamp(doctor_id: uuid.UUID, weekday: int) -> str:
    return f"slots:stamp:{doctor_id}:wd{weekday}"


def _date_stamp(doctor_id: uuid.UUID, day: date) -> str:
    return f"slots:stamp:{doctor_id}:{day.isoformat()}"


def _booked_stamp(doctor_id: uuid.UUID) -> str:
    return f"slots:booked:{doctor_id}"


def _booked_date_stamp(doctor_id: uuid.UUID, day: date) -> str:
    return f"slots:booked:{doctor_id}:{day.isoformat()}"


def _stamps_of(key: DayKey) -> tuple[str, str, str, str, str]:
    """The schedule's three stamps, then the bookings' two."""
    return (
        _doctor_stamp(key.doctor_id),
        _weekday_stamp(key.doctor_id, key.date.isoweekday()),
        _date_stamp(key.doctor_id, key.date),
        _booked_stamp(key.doctor_id),
        _booked_date_stamp(key.doctor_id, key.date),
    )


def _stale_names(days: StaleDays) -> list[str]:
    if days.bookings_only and not days.weekdays:
        if days.every_day:
            return [_booked_stamp(days.doctor_id)]
        return [_booked_date_stamp(days.doctor_id, day) for day in days.dates]
    if days.every_day:
        return [_doctor_stamp(days.doctor_id)]
    return [_weekday_stamp(days.doctor_id, weekday) for weekday in days.weekdays] + [
        _date_stamp(days.doctor_id, day) for day in days.dates
    ]


def _day_key(key: DayKey) -> str:
    return f"slots:day:{key.doctor_id}:{key.clinic_id or 'all'}:{key.date.isoformat()}"


def _encode(stamp: Stamp, day: bytes) -> bytes:
    # The stamps first: a stale day is recognised without reading its slots.
    return b"%d %d\n" % stamp + day


@dataclass(frozen=True, slots=True)
class CacheRead:
    hits: dict[DayKey, bytes]  # each day as the domain encoded it
    # The stamp each missing day was read under; store it with what is computed.
    stamps: dict[DayKey, Stamp]
    # Missing days stale only by bookings, as cached: their slot grid and time away are
    # current, not which slots are free.
    schedules: dict[DayKey, bytes]


class SlotCache:
    def __init__(self, redis: "Redis") -> None:
        self.redis = redis
        self._stamp = redis.register_script(_STAMP_SCRIPT)

    async def read(
        self, keys: Sequence[DayKey], still_true: Callable[[bytes], bool] | None = None
    ) -> CacheRead:
        """Stamps and cached days for all keys in one round trip (one MGET). Without
        Redis every day is a miss: slots come straight from PostgreSQL. A day that
        ``still_true`` rejects (it counts a hold that has expired since) is a miss too."""
        names: dict[str, int] = {}
        where: list[tuple[DayKey, list[int], int]] = []
        for key in keys:
            places = [names.setdefault(name, len(names)) for name in _stamps_of(key)]
            where.append((key, places, names.setdefault(_day_key(key), len(names))))
        try:
            values = await self.redis.mget(list(names)) if names else []
        except RedisError as error:
            logger.warning("slot cache unavailable, days computed: %s", type(error).__name__)
            _UNAVAILABLE.inc(len(where))
            return CacheRead({}, dict.fromkeys(keys, UNKNOWN_STAMP), {})
        hits: dict[DayKey, bytes] = {}
        stamps: dict[DayKey, Stamp] = {}
        schedules: dict[DayKey, bytes] = {}
        for key, places, place in where:
            found = [int(values[at] or 0) for at in places]
            schedule = max(found[:3])
            stamp = Stamp(max(schedule, *found[3:]), schedule)
            day = values[place]
            if day is not None:
                header, _, encoded = day.partition(b"\n")
                latest, _, cached_schedule = header.partition(b" ")
                if int(latest) == stamp.latest and (still_true is None or still_true(encoded)):
                    hits[key] = encoded
                    continue
                if cached_schedule and int(cached_schedule) == schedule:
                    schedules[key] = encoded
            stamps[key] = stamp
        _HITS.inc(len(hits))
        _MISSES.inc(len(stamps))
        return CacheRead(hits, stamps, schedules)

    async def store(self, days: dict[DayKey, tuple[Stamp, bytes]]) -> None:
        """Best effort: a day that could not be stored is computed again next time."""
        known = {key: value for key, value in days.items() if value[0] != UNKNOWN_STAMP}
        if not known:
            return
        try:
            async with self.redis.pipeline(transaction=False) as pipe:
                for key, (stamp, day) in known.items():
                    pipe.set(_day_key(key), _encode(stamp, day), ex=TTL_SECONDS)
                await pipe.execute()
        except RedisError as error:
            logger.warning("slot cache unavailable, days not stored: %s", type(error).__name__)

    async def invalidate(
        self, doctor_ids: Iterable[uuid.UUID], *, bookings_only: bool = False
    ) -> None:
        """Every cached day of these doctors. Call after the commit of the change."""
        await self.invalidate_days(
            [
                StaleDays(doctor_id, every_day=True, bookings_only=bookings_only)
                for doctor_id in set(doctor_ids)
            ]
        )

    async def invalidate_days(self, stale: Iterable[StaleDays]) -> None:
        """Exactly the cached days a change made stale, and a message on
        CHANGES_CHANNEL for each doctor. Call after its commit."""
        names: list[str] = []
        changes: list[str] = []
        for days in stale:
            names += _stale_names(days)
            if days.every_day or days.weekdays or days.dates:
                changes.append(days.encode())
        if names:
            await self._stamp(
                keys=[_COUNTER, *sorted(set(names))],
                args=[STAMP_TTL_SECONDS, CHANGES_CHANNEL, *changes],
            )
