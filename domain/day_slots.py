"""One doctor-day's slots in a compact form: instants as integers (microseconds since the
Unix epoch) with their UTC offsets, and the first and last free start up front. Cheap to
store, and a search can pass over a day without decoding it, or compare its slots
without making a datetime for each; a Slot is made only when one is shown."""

import json
import uuid
from collections.abc import Sequence
from datetime import UTC, datetime, timedelta, timezone
from functools import lru_cache

from domain.slot_grid import Slot

_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)
_MICROSECOND = timedelta(microseconds=1)
_OFFSETS: dict[int, timezone] = {}
_CLINICS: dict[str, uuid.UUID] = {}  # a few dozen ids, each parsed once per process

# A row: [clinic index, start µs, end µs, start's UTC offset s, end's UTC offset s, free 0/1]
Row = list[int]


def micros(moment: datetime) -> int:
    """``moment`` (aware) as microseconds since the epoch, exactly."""
    if moment.microsecond == 0:
        # A whole second (every slot): timestamp() is then exact, and much faster.
        return int(moment.timestamp()) * 1_000_000
    return (moment - _EPOCH) // _MICROSECOND


def instant(micros: int, offset_seconds: int) -> datetime:
    """The instant ``micros`` shown at the UTC offset ``offset_seconds``."""
    zone = _OFFSETS.get(offset_seconds)
    if zone is None:
        zone = _OFFSETS.setdefault(offset_seconds, timezone(timedelta(seconds=offset_seconds)))
    seconds, fraction = divmod(micros, 1_000_000)
    moment = datetime.fromtimestamp(seconds, zone)
    return moment.replace(microsecond=fraction) if fraction else moment


def _offset(moment: datetime) -> int:
    offset = moment.utcoffset()
    assert offset is not None  # slots are aware
    return int(offset.total_seconds())


def _clinic(text: str) -> uuid.UUID:
    found = _CLINICS.get(text)
    return found if found is not None else _CLINICS.setdefault(text, uuid.UUID(text))


class DaySlots:
    """The slots of a day, sorted by start. Made from slots, or from bytes (decoded only
    when its rows are first needed)."""

    __slots__ = ("_body", "_clinic_ids", "_rows", "first_free", "last_free", "valid_until")

    def __init__(
        self,
        first_free: int | None,
        last_free: int | None,
        clinic_ids: Sequence[uuid.UUID] = (),
        rows: Sequence[Row] = (),
        body: bytes | None = None,
        *,
        valid_until: int | None = None,
    ) -> None:
        # The first and last start of a free slot, None when none is free.
        self.first_free = first_free
        self.last_free = last_free
        self._clinic_ids, self._rows, self._body = clinic_ids, rows, body
        # When the first hold counted as busy expires (µs): the day is true until then.
        self.valid_until = valid_until

    @classmethod
    def of(cls, slots: Sequence[Slot], held_until: datetime | None = None) -> "DaySlots":
        clinics: dict[uuid.UUID, int] = {}
        rows = [
            [
                clinics.setdefault(slot.clinic_id, len(clinics)),
                micros(slot.starts_at),
                micros(slot.ends_at),
                _offset(slot.starts_at),
                _offset(slot.ends_at),
                int(slot.available),
            ]
            for slot in slots
        ]
        free = [row[1] for row in rows if row[5]]
        until = None if held_until is None else micros(held_until)
        return cls(
            min(free, default=None), max(free, default=None), list(clinics), rows, valid_until=until
        )

    @property
    def clinic_ids(self) -> Sequence[uuid.UUID]:
        self._decode()
        return self._clinic_ids

    @property
    def rows(self) -> Sequence[Row]:
        self._decode()
        return self._rows

    def slot(self, row: Row) -> Slot:
        clinic, start, end, start_offset, end_offset, free = row
        return Slot(
            self.clinic_ids[clinic],
            instant(start, start_offset),
            instant(end, end_offset),
            bool(free),
        )

    def slots(self) -> list[Slot]:
        if self._body is not None:
            return list(_slots_of_body(self._body))
        return [self.slot(row) for row in self.rows]

    def free_at(
        self, clinic_id: uuid.UUID, starts_at: datetime
    ) -> tuple[datetime, datetime] | None:
        """The (start, end) of the free slot at that clinic starting at ``starts_at``."""
        at = micros(starts_at)
        if self.first_free is None or self.last_free is None:
            return None
        if not self.first_free <= at <= self.last_free:
            return None
        for row in self.rows:
            if row[1] == at and row[5] and self.clinic_ids[row[0]] == clinic_id:
                slot = self.slot(row)
                return slot.starts_at, slot.ends_at
        return None

    def encode(self) -> bytes:
        """``first last`` (``-`` when none is free), `` until`` when a hold counts, a
        newline, then the rows as JSON."""
        header = " ".join(
            "-" if at is None else str(at) for at in (self.first_free, self.last_free)
        )
        if self.valid_until is not None:
            header += f" {self.valid_until}"
        body = json.dumps([[str(id_) for id_ in self.clinic_ids], self.rows], separators=(",", ":"))
        return f"{header}\n{body}".encode()

    @classmethod
    def decode(cls, data: bytes) -> "DaySlots":
        header, _, body = data.partition(b"\n")
        first, last, *until = header.split(b" ")
        return cls(
            None if first == b"-" else int(first),
            None if last == b"-" else int(last),
            body=body,
            valid_until=int(until[0]) if until else None,
        )

    @staticmethod
    def true_at(data: bytes, now: datetime) -> bool:
        """Whether an encoded day still tells the truth at ``now``: no hold it counts
        has expired. Reads the header only."""
        header = data[: data.find(b"\n")].split(b" ")
        return len(header) < 3 or int(header[2]) > micros(now)

    def _decode(self) -> None:
        if self._body is not None:
            clinics, rows = json.loads(self._body)
            self._clinic_ids, self._rows, self._body = [_clinic(c) for c in clinics], rows, None


# A cached day is read far more often than it changes, and making its 20 to 30 Slots
# took 90 µs of a 2 ms cache hit (2.5 µs from here). Slots are immutable, so the days
# shown last are kept, keyed by the encoded body: about 8 KB each, 2 MB in all.
@lru_cache(maxsize=256)
def _slots_of_body(body: bytes) -> tuple[Slot, ...]:
    day = DaySlots(None, None, body=body)
    return tuple(day.slot(row) for row in day.rows)
