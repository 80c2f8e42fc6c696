"""Computed slots in Redis, per doctor, clinic and date, for five minutes.

Each doctor has a version number, bumped after every committed change that
moves their slots. A cached day remembers the version it was computed under and
counts only while that is still the doctor's version. A read that began before
a booking committed may finish after it, but what it stores carries the old
version and can never be served: a stale read cannot repopulate the cache.
"""

import json
import uuid
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date, datetime

from redis.asyncio import Redis

from domain.slot_grid import Slot

TTL_SECONDS = 300


@dataclass(frozen=True, slots=True)
class DayKey:
    doctor_id: uuid.UUID
    date: date
    clinic_id: uuid.UUID | None


@dataclass(frozen=True, slots=True)
class CacheRead:
    hits: dict[DayKey, list[Slot]]
    # The version each missing day was read under; store it with what is computed.
    versions: dict[DayKey, int]


def _version_key(doctor_id: uuid.UUID) -> str:
    return f"slots:version:{doctor_id}"


def _day_key(key: DayKey) -> str:
    return f"slots:day:{key.doctor_id}:{key.clinic_id or 'all'}:{key.date.isoformat()}"


def _encode(version: int, slots: Sequence[Slot]) -> bytes:
    rows = [
        [str(s.clinic_id), s.starts_at.isoformat(), s.ends_at.isoformat(), s.available]
        for s in slots
    ]
    return json.dumps({"v": version, "slots": rows}, separators=(",", ":")).encode()


def _decode(raw: bytes) -> tuple[int, list[Slot]]:
    data = json.loads(raw)
    slots = [
        Slot(uuid.UUID(clinic), datetime.fromisoformat(start), datetime.fromisoformat(end), free)
        for clinic, start, end, free in data["slots"]
    ]
    return data["v"], slots


@dataclass(frozen=True, slots=True)
class SlotCache:
    redis: "Redis"

    async def read(self, keys: Sequence[DayKey]) -> CacheRead:
        """Versions and cached days for all keys in one round trip."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for key in keys:
                pipe.get(_version_key(key.doctor_id))
                pipe.get(_day_key(key))
            replies = await pipe.execute()
        hits: dict[DayKey, list[Slot]] = {}
        versions: dict[DayKey, int] = {}
        for key, version_raw, day_raw in zip(keys, replies[::2], replies[1::2], strict=True):
            version = int(version_raw or 0)
            if day_raw is not None:
                cached_version, slots = _decode(day_raw)
                if cached_version == version:
                    hits[key] = slots
                    continue
            versions[key] = version
        return CacheRead(hits, versions)

    async def store(self, days: dict[DayKey, tuple[int, Sequence[Slot]]]) -> None:
        if not days:
            return
        async with self.redis.pipeline(transaction=False) as pipe:
            for key, (version, slots) in days.items():
                pipe.set(_day_key(key), _encode(version, slots), ex=TTL_SECONDS)
            await pipe.execute()

    async def invalidate(self, doctor_ids: Iterable[uuid.UUID]) -> None:
        """Call after the commit of any change to these doctors' slots."""
        async with self.redis.pipeline(transaction=False) as pipe:
            for doctor_id in set(doctor_ids):
                pipe.incr(_version_key(doctor_id))
            await pipe.execute()
