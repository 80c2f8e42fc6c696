"""The slot grid: a doctor's weekly blocks cut into bookable slots on one clinic-local date.

Pure functions. Templates speak wall-clock time while appointments and exceptions are
instants, so daylight-saving transitions decide which slots exist. Instants are compared in
UTC: aware datetimes that share a tzinfo compare by wall clock and ignore ``fold``, which
would confuse the two occurrences of a repeated hour.
"""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from zoneinfo import ZoneInfo


@dataclass(frozen=True, slots=True)
class Block:
    """One schedule-template block of the requested weekday, in the clinic's wall time."""

    clinic_id: uuid.UUID
    start_time: time
    end_time: time
    slot_minutes: int


@dataclass(frozen=True, slots=True)
class Slot:
    """A slot; ``starts_at``/``ends_at`` are in the clinic's zone. Compare them in UTC."""

    clinic_id: uuid.UUID
    starts_at: datetime
    ends_at: datetime
    available: bool


def _utc(moment: datetime) -> datetime:
    # A naive datetime would silently be read as the server's local time.
    if moment.utcoffset() is None:
        raise ValueError(f"expected an aware datetime, got {moment!r}")
    return moment.astimezone(UTC)


def _first_occurrence(wall: datetime) -> datetime | None:
    """The UTC instant at which ``wall`` (aware, fold=0) first shows on the clock, None in a gap."""
    instant = wall.astimezone(UTC)
    # A gap wall time maps to an instant whose clock reads differently. Same-zone datetimes
    # compare by wall clock, which is the comparison wanted here.
    return None if instant.astimezone(wall.tzinfo) != wall else instant


def _end_instant(wall: datetime) -> datetime:
    """The first occurrence of ``wall``, or the first existing instant after it if in a gap."""
    instant = _first_occurrence(wall)
    if instant is not None:
        return instant
    # In a gap the two folds straddle the transition, which is the instant wanted: the
    # clock reads before ``wall`` up to it and after ``wall`` from it on. Transitions fall
    # on whole seconds, so a binary search over seconds finds it exactly.
    low, high = sorted(wall.replace(fold=f).astimezone(UTC) for f in (0, 1))
    low = low.replace(microsecond=0)
    below, above = 0, int((high - low).total_seconds()) + 1  # clock < wall at low, >= at high
    while above - below > 1:
        middle = (below + above) // 2
        clock = (low + timedelta(seconds=middle)).astimezone(wall.tzinfo)
        below, above = (below, middle) if clock >= wall else (middle, above)
    return low + timedelta(seconds=above)


# (start UTC, end UTC, start local, end local): UTC to compare, local to show.
_Instants = tuple[datetime, datetime, datetime, datetime]


def _grid(local_date: date, zone: ZoneInfo, block: Block) -> list[_Instants]:
    if block.slot_minutes <= 0:
        raise ValueError(f"slot_minutes must be positive, got {block.slot_minutes}")
    length = timedelta(minutes=block.slot_minutes)
    # Aware arithmetic within one zone is wall-clock arithmetic and yields fold=0, the
    # first occurrence: exactly the grid's candidates.
    wall = datetime.combine(local_date, block.start_time, zone).replace(fold=0)
    end_wall = datetime.combine(local_date, block.end_time, zone).replace(fold=0)
    end = _end_instant(end_wall)
    slots: list[_Instants] = []
    while wall < end_wall:
        start = _first_occurrence(wall)
        if start is not None:
            finish = start + length  # UTC arithmetic: real elapsed time
            if finish > end:
                break  # first occurrences grow with the wall time, so no later slot fits
            # After a spring-forward gap the grid can step back in real time.
            if not slots or start >= slots[-1][1]:
                slots.append((start, finish, wall, finish.astimezone(zone)))
        wall += length
    return slots


def _by_start(item: tuple[_Instants, uuid.UUID]) -> datetime:
    return item[0][0]


def slot_times(local_date: date, zone: ZoneInfo, block: Block) -> list[tuple[datetime, datetime]]:
    """The (start, end) of each slot of ``block`` on the clinic-local ``local_date``.

    - Candidate starts are the block's start wall time plus k * slot_minutes of wall time.
    - Every slot lasts exactly slot_minutes of real (elapsed) time, even across a transition.
    - A candidate whose wall time does not exist (spring-forward gap) is never offered.
    - In a repeated hour (fall back) a wall time means its first occurrence (fold=0), and a
      candidate overlapping an already emitted slot is skipped.
    - A slot ends no later, in real time, than the block's end instant: the end wall time's
      first occurrence or, when it falls in a gap, the first existing instant after it.

    The result is sorted, non-overlapping, and in ``zone`` (so isoformat shows the offset).
    """
    return [(start, end) for _, _, start, end in _grid(local_date, zone, block)]


def day_slots(
    local_date: date,
    zone: ZoneInfo,
    blocks: Sequence[Block],
    busy: Sequence[tuple[datetime, datetime]],
    now: datetime,
) -> list[Slot]:
    """Every block's slots on ``local_date``, sorted by start, with their availability.

    A slot is unavailable once started (``starts_at <= now``) or when it overlaps a busy
    half-open interval ``[start, end)`` (touching is not overlapping). ``busy`` holds
    scheduled appointments and exceptions in any order, possibly overlapping; intervals
    with ``end <= start`` are empty and ignored.
    """
    grid = sorted(
        ((slot, block.clinic_id) for block in blocks for slot in _grid(local_date, zone, block)),
        key=_by_start,
    )
    # Merged into disjoint sorted intervals, busy time needs one forward pointer only.
    merged: list[tuple[datetime, datetime]] = []
    for start, end in sorted((_utc(start), _utc(end)) for start, end in busy):
        if end <= start:
            continue
        if merged and start <= merged[-1][1]:
            if end > merged[-1][1]:
                merged[-1] = (merged[-1][0], end)
        else:
            merged.append((start, end))
    now_utc = _utc(now)
    slots: list[Slot] = []
    index = 0
    for (start, end, local_start, local_end), clinic_id in grid:
        # Starts never decrease, so an interval ending by this start is done for good.
        while index < len(merged) and merged[index][1] <= start:
            index += 1
        taken = index < len(merged) and merged[index][0] < end
        slots.append(Slot(clinic_id, local_start, local_end, start > now_utc and not taken))
    return slots


def find_slot(
    local_date: date, zone: ZoneInfo, blocks: Sequence[Block], starts_at: datetime
) -> tuple[Block, datetime, datetime] | None:
    """The block and (start, end) in ``zone`` of the slot starting exactly at ``starts_at``.

    None when ``starts_at`` is not a slot start on ``local_date``: inside a slot, outside
    every block, or on a grid wall time that ``slot_times`` skips (lost to a spring-forward
    gap or to an overlap after it). Booking validation checks requested starts with it.
    """
    wanted = _utc(starts_at)
    for block in blocks:
        for start, _, local_start, local_end in _grid(local_date, zone, block):
            if start == wanted:
                return block, local_start, local_end
            if start > wanted:
                break
    return None
