"""The slot grid across DST transitions, availability, and a brute-force oracle."""

import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta, timezone
from functools import cache, lru_cache
from itertools import pairwise
from zoneinfo import ZoneInfo

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from domain.slot_grid import Block, Slot, day_slots, find_slot, slot_times

NEW_YORK = ZoneInfo("America/New_York")
BERLIN = ZoneInfo("Europe/Berlin")
LORD_HOWE = ZoneInfo("Australia/Lord_Howe")
KOLKATA = ZoneInfo("Asia/Kolkata")
SPRING_NY = date(2026, 3, 8)  # 02:00 EST -> 03:00 EDT
FALL_NY = date(2026, 11, 1)  # 02:00 EDT -> 01:00 EST
SPRING_BERLIN = date(2026, 3, 29)  # 02:00 CET -> 03:00 CEST
CLINIC_A = uuid.UUID("00000000-0000-7000-8000-00000000000a")
CLINIC_B = uuid.UUID("00000000-0000-7000-8000-00000000000b")
MINUTE = timedelta(minutes=1)


def _block(start: str, end: str, minutes: int, clinic: uuid.UUID = CLINIC_A) -> Block:
    return Block(clinic, time.fromisoformat(start), time.fromisoformat(end), minutes)


def _isos(day: date, offset: str, *clocks: str) -> list[str]:
    return [f"{day}T{clock}:00{offset}" for clock in clocks]


# --- an oracle that only ever converts UTC instants to wall time --------------------------


@lru_cache(maxsize=256)
def _walk(
    zone_name: str, day: date
) -> tuple[tuple[tuple[datetime, datetime], ...], dict[datetime, datetime]]:
    """Real time minute by minute in UTC around ``day``: (instant, wall) pairs, and the
    first instant at which each wall minute shows on the clock."""
    zone = ZoneInfo(zone_name)
    instant = datetime.combine(day - timedelta(days=1), time(), UTC)
    stop = instant + timedelta(days=3)  # covers the local day for any offset in -12..+14h
    walk: list[tuple[datetime, datetime]] = []
    first: dict[datetime, datetime] = {}
    while instant < stop:
        wall = instant.astimezone(zone).replace(tzinfo=None)
        walk.append((instant, wall))
        first.setdefault(wall, instant)
        instant += MINUTE
    return tuple(walk), first


def _oracle_grid(zone_name: str, day: date, block: Block) -> list[tuple[datetime, datetime]]:
    walk, first = _walk(zone_name, day)
    length = timedelta(minutes=block.slot_minutes)
    end_wall = datetime.combine(day, block.end_time)
    block_end = next(instant for instant, wall in walk if wall >= end_wall)
    slots: list[tuple[datetime, datetime]] = []
    wall = datetime.combine(day, block.start_time)
    while wall < end_wall:
        start = first.get(wall)  # None: the wall time never shows (a gap)
        if (
            start is not None
            and start + length <= block_end
            and (not slots or start >= slots[-1][1])
        ):
            slots.append((start, start + length))
        wall += length
    return slots


def _oracle_day(
    zone_name: str,
    day: date,
    blocks: Sequence[Block],
    busy: Sequence[tuple[datetime, datetime]],
    now: datetime,
) -> list[tuple[uuid.UUID, str, str, bool]]:
    zone = ZoneInfo(zone_name)
    busy_utc = [(start.astimezone(UTC), end.astimezone(UTC)) for start, end in busy]
    now_utc = now.astimezone(UTC)
    rows = []
    for block in blocks:
        for start, end in _oracle_grid(zone_name, day, block):
            taken = any(b_start < end and start < b_end for b_start, b_end in busy_utc)
            available = not taken and start > now_utc
            rows.append((start, block.clinic_id, end, available))
    rows.sort(key=lambda row: row[0])
    return [
        (clinic, start.astimezone(zone).isoformat(), end.astimezone(zone).isoformat(), available)
        for start, clinic, end, available in rows
    ]


def _rows(slots: Sequence[Slot]) -> list[tuple[uuid.UUID, str, str, bool]]:
    return [
        (s.clinic_id, s.starts_at.isoformat(), s.ends_at.isoformat(), s.available) for s in slots
    ]


def _assert_well_formed(
    slots: Sequence[tuple[datetime, datetime]], zone: ZoneInfo, day: date, minutes: Sequence[int]
) -> None:
    """Sorted, in ``zone``, exactly ``minutes`` of real time each, no overlap, and every
    start is the first occurrence of an existing wall time."""
    _, first = _walk(str(zone), day)
    for (start, end), length in zip(slots, minutes, strict=True):
        assert start.tzinfo is zone
        assert end.tzinfo is zone
        assert end.astimezone(UTC) - start.astimezone(UTC) == timedelta(minutes=length)
        assert first.get(start.replace(tzinfo=None)) == start.astimezone(UTC)
    for (_, previous_end), (start, _) in pairwise(slots):
        assert previous_end.astimezone(UTC) <= start.astimezone(UTC)


# --- DST ---------------------------------------------------------------------------------

DST_CASES = [
    pytest.param(
        NEW_YORK,
        SPRING_NY,
        _block("00:00", "05:00", 30),
        _isos(SPRING_NY, "-05:00", "00:00", "00:30", "01:00", "01:30")
        + _isos(SPRING_NY, "-04:00", "03:00", "03:30", "04:00", "04:30"),
        id="new-york-spring-30",
    ),
    pytest.param(
        NEW_YORK,
        SPRING_NY,
        _block("00:00", "05:00", 45),
        # 02:15 does not exist; 03:00 EDT (07:00Z) overlaps 01:30 EST + 45 min (07:15Z);
        # 04:30 EDT would end at 05:15 EDT, after the block.
        _isos(SPRING_NY, "-05:00", "00:00", "00:45", "01:30") + _isos(SPRING_NY, "-04:00", "03:45"),
        id="new-york-spring-45",
    ),
    pytest.param(
        NEW_YORK,
        FALL_NY,
        _block("00:00", "05:00", 30),
        # The repeated 01:00-02:00 is used once, at its first (EDT) occurrence.
        _isos(FALL_NY, "-04:00", "00:00", "00:30", "01:00", "01:30")
        + _isos(FALL_NY, "-05:00", "02:00", "02:30", "03:00", "03:30", "04:00", "04:30"),
        id="new-york-fall-30",
    ),
    pytest.param(
        NEW_YORK,
        FALL_NY,
        _block("00:00", "05:00", 45),
        # 04:30 EST would end at 05:15 EST, after the block.
        _isos(FALL_NY, "-04:00", "00:00", "00:45", "01:30")
        + _isos(FALL_NY, "-05:00", "02:15", "03:00", "03:45"),
        id="new-york-fall-45",
    ),
    pytest.param(
        BERLIN,
        SPRING_BERLIN,
        _block("00:00", "05:00", 30),
        _isos(SPRING_BERLIN, "+01:00", "00:00", "00:30", "01:00", "01:30")
        + _isos(SPRING_BERLIN, "+02:00", "03:00", "03:30", "04:00", "04:30"),
        id="berlin-spring-30",
    ),
    pytest.param(
        BERLIN,
        SPRING_BERLIN,
        _block("00:00", "05:00", 45),
        _isos(SPRING_BERLIN, "+01:00", "00:00", "00:45", "01:30")
        + _isos(SPRING_BERLIN, "+02:00", "03:45"),
        id="berlin-spring-45",
    ),
    pytest.param(
        LORD_HOWE,
        date(2026, 10, 4),
        _block("00:00", "04:00", 30),  # 02:00 -> 02:30
        _isos(date(2026, 10, 4), "+10:30", "00:00", "00:30", "01:00", "01:30")
        + _isos(date(2026, 10, 4), "+11:00", "02:30", "03:00", "03:30"),
        id="lord-howe-spring-30",
    ),
    pytest.param(
        LORD_HOWE,
        date(2026, 4, 5),
        _block("00:00", "04:00", 30),  # 02:00 -> 01:30
        _isos(date(2026, 4, 5), "+11:00", "00:00", "00:30", "01:00", "01:30")
        + _isos(date(2026, 4, 5), "+10:30", "02:00", "02:30", "03:00", "03:30"),
        id="lord-howe-fall-30",
    ),
    pytest.param(
        NEW_YORK,
        SPRING_NY,
        _block("00:00", "02:30", 45),
        # The end 02:30 does not exist: the block ends at 03:00 EDT (07:00Z), so 01:30 EST
        # (06:30Z + 45 min = 07:15Z) does not fit.
        _isos(SPRING_NY, "-05:00", "00:00", "00:45"),
        id="new-york-block-ends-in-gap-45",
    ),
    pytest.param(
        NEW_YORK,
        SPRING_NY,
        _block("00:00", "02:30", 30),
        _isos(SPRING_NY, "-05:00", "00:00", "00:30", "01:00", "01:30"),
        id="new-york-block-ends-in-gap-30",
    ),
    pytest.param(
        NEW_YORK,
        SPRING_NY,
        _block("02:30", "04:00", 30),
        _isos(SPRING_NY, "-04:00", "03:00", "03:30"),
        id="new-york-block-starts-in-gap",
    ),
]

NORMAL_CASES = [
    pytest.param(NEW_YORK, SPRING_NY, "-04:00", id="new-york-spring-day"),
    pytest.param(NEW_YORK, FALL_NY, "-05:00", id="new-york-fall-day"),
    pytest.param(NEW_YORK, date(2026, 1, 15), "-05:00", id="new-york-winter"),
    pytest.param(NEW_YORK, date(2026, 7, 15), "-04:00", id="new-york-summer"),
    pytest.param(BERLIN, SPRING_BERLIN, "+02:00", id="berlin-spring-day"),
    pytest.param(BERLIN, date(2026, 1, 15), "+01:00", id="berlin-winter"),
    pytest.param(BERLIN, date(2026, 7, 15), "+02:00", id="berlin-summer"),
    pytest.param(KOLKATA, date(2026, 7, 15), "+05:30", id="kolkata"),
]


@pytest.mark.parametrize(("zone", "day", "block", "expected"), DST_CASES)
def test_slot_starts_across_transitions(
    zone: ZoneInfo, day: date, block: Block, expected: list[str]
) -> None:
    slots = slot_times(day, zone, block)

    assert [start.isoformat() for start, _ in slots] == expected
    _assert_well_formed(slots, zone, day, [block.slot_minutes] * len(slots))


@pytest.mark.parametrize(("zone", "day", "offset"), NORMAL_CASES)
def test_normal_morning_has_six_half_hour_slots(zone: ZoneInfo, day: date, offset: str) -> None:
    slots = slot_times(day, zone, _block("09:00", "12:00", 30))

    assert [(start.isoformat(), end.isoformat()) for start, end in slots] == list(
        zip(
            _isos(day, offset, "09:00", "09:30", "10:00", "10:30", "11:00", "11:30"),
            _isos(day, offset, "09:30", "10:00", "10:30", "11:00", "11:30", "12:00"),
            strict=True,
        )
    )


def test_slots_crossing_a_transition_last_real_minutes() -> None:
    spring = slot_times(SPRING_NY, NEW_YORK, _block("01:30", "03:00", 30))
    fall = slot_times(FALL_NY, NEW_YORK, _block("01:30", "02:00", 30))
    fall_45 = slot_times(FALL_NY, NEW_YORK, _block("01:30", "02:15", 45))

    assert [(s.isoformat(), e.isoformat()) for s, e in spring] == [
        ("2026-03-08T01:30:00-05:00", "2026-03-08T03:00:00-04:00")
    ]
    # 02:00 shows once, in EST: the 01:30 EDT slot ends at the second 01:00.
    assert [(s.isoformat(), e.isoformat()) for s, e in fall] == [
        ("2026-11-01T01:30:00-04:00", "2026-11-01T01:00:00-05:00")
    ]
    assert [(s.isoformat(), e.isoformat()) for s, e in fall_45] == [
        ("2026-11-01T01:30:00-04:00", "2026-11-01T01:15:00-05:00")
    ]
    assert fall[0][1].fold == 1  # the second 01:00, shown with its -05:00 offset


def test_empty_and_invalid_blocks() -> None:
    assert slot_times(SPRING_NY, NEW_YORK, _block("09:00", "09:20", 30)) == []
    assert slot_times(SPRING_NY, NEW_YORK, _block("10:00", "09:00", 30)) == []
    with pytest.raises(ValueError, match="slot_minutes"):
        slot_times(SPRING_NY, NEW_YORK, _block("09:00", "10:00", 0))


# --- availability ------------------------------------------------------------------------

MORNING = [_block("09:00", "12:00", 30)]
WINTER = date(2026, 1, 15)


def _ny(clock: str, day: date = WINTER, fold: int = 0) -> datetime:
    return datetime.combine(day, time.fromisoformat(clock), NEW_YORK).replace(fold=fold)


def _available(slots: Sequence[Slot]) -> list[bool]:
    return [slot.available for slot in slots]


EARLY = _ny("00:00")


def test_touching_busy_intervals_do_not_block() -> None:
    busy = [
        (_ny("09:30"), _ny("10:00")),
        (_ny("08:00"), _ny("09:00")),
        (_ny("12:00"), _ny("13:00")),
    ]

    slots = day_slots(WINTER, NEW_YORK, MORNING, busy, EARLY)

    assert _available(slots) == [True, False, True, True, True, True]


def test_an_exception_blocks_every_slot_it_touches_inside() -> None:
    away = (_ny("09:45"), _ny("11:10"))

    slots = day_slots(WINTER, NEW_YORK, MORNING, [away], EARLY)

    assert _available(slots) == [True, False, False, False, False, True]


def test_overlapping_unsorted_busy_in_other_zones() -> None:
    busy = [
        (_ny("11:00").astimezone(UTC), _ny("11:05").astimezone(UTC)),
        (_ny("09:10").astimezone(KOLKATA), _ny("09:20").astimezone(BERLIN)),
        (_ny("09:00"), _ny("09:40")),
        (_ny("09:05"), _ny("09:15")),
    ]

    slots = day_slots(WINTER, NEW_YORK, MORNING, busy, EARLY)

    assert _available(slots) == [False, False, True, True, False, True]


def test_started_slots_are_unavailable() -> None:
    def available_at(now: datetime) -> list[bool]:
        return _available(day_slots(WINTER, NEW_YORK, MORNING, [], now))

    assert available_at(_ny("10:00")) == [False, False, False, True, True, True]
    assert available_at(_ny("10:00") + timedelta(seconds=1)) == [False] * 3 + [True] * 3
    assert available_at(_ny("10:00") - timedelta(microseconds=1)) == [False] * 2 + [True] * 4
    assert available_at(_ny("10:00").astimezone(UTC)) == [False] * 3 + [True] * 3
    assert available_at(_ny("12:00")) == [False] * 6


def test_blocks_of_two_clinics_come_back_sorted() -> None:
    blocks = [
        _block("13:00", "14:00", 20, CLINIC_B),
        _block("09:00", "10:00", 30, CLINIC_A),
        _block("10:00", "10:45", 15, CLINIC_B),
    ]

    slots = day_slots(WINTER, NEW_YORK, blocks, [(_ny("13:10"), _ny("13:30"))], EARLY)

    assert [(s.clinic_id, s.starts_at.isoformat(), s.available) for s in slots] == [
        (CLINIC_A, "2026-01-15T09:00:00-05:00", True),
        (CLINIC_A, "2026-01-15T09:30:00-05:00", True),
        (CLINIC_B, "2026-01-15T10:00:00-05:00", True),
        (CLINIC_B, "2026-01-15T10:15:00-05:00", True),
        (CLINIC_B, "2026-01-15T10:30:00-05:00", True),
        (CLINIC_B, "2026-01-15T13:00:00-05:00", False),
        (CLINIC_B, "2026-01-15T13:20:00-05:00", False),
        (CLINIC_B, "2026-01-15T13:40:00-05:00", True),
    ]


def test_repeated_hour_is_compared_in_real_time() -> None:
    """Same-zone datetimes compare by wall clock; the grid must not fall for it."""
    blocks = [_block("00:00", "03:00", 30)]
    early = _ny("00:00", date(2026, 10, 31))
    # The second 01:00-02:00 (EST) holds no slot: it touches 01:30 EDT's end and 02:00 EST.
    second_hour = (_ny("01:00", FALL_NY, fold=1), _ny("02:00", FALL_NY))
    inside_second = (_ny("01:10", FALL_NY, fold=1), _ny("01:50", FALL_NY, fold=1))
    inside_first = (_ny("01:10", FALL_NY), _ny("01:20", FALL_NY))

    def flags(busy: list[tuple[datetime, datetime]]) -> list[bool]:
        return _available(day_slots(FALL_NY, NEW_YORK, blocks, busy, early))

    assert flags([second_hour, inside_second]) == [True] * 6
    # By wall clock 01:10 EST sorts before 01:40 EDT, though it comes 30 minutes later.
    late_then_early = [
        (_ny("01:10", FALL_NY, fold=1), _ny("01:20", FALL_NY, fold=1)),
        (_ny("01:40", FALL_NY), _ny("01:50", FALL_NY)),
    ]
    assert flags(late_then_early) == [True, True, True, False, True, True]
    assert flags([inside_first]) == [True, True, False, True, True, True]
    assert flags([]) == [True] * 6
    later = day_slots(FALL_NY, NEW_YORK, blocks, [], _ny("01:45", FALL_NY, fold=1))
    assert _available(later) == [False, False, False, False, True, True]


def test_empty_busy_intervals_are_ignored_and_naive_times_refused() -> None:
    inverted = [(_ny("10:10"), _ny("10:10")), (_ny("11:10"), _ny("10:50"))]
    assert _available(day_slots(WINTER, NEW_YORK, MORNING, inverted, EARLY)) == [True] * 6

    naive = datetime(2026, 1, 15, 9, 0)
    with pytest.raises(ValueError, match="aware"):
        day_slots(WINTER, NEW_YORK, MORNING, [], naive)
    with pytest.raises(ValueError, match="aware"):
        day_slots(WINTER, NEW_YORK, MORNING, [(naive, _ny("10:00"))], EARLY)
    with pytest.raises(ValueError, match="aware"):
        find_slot(WINTER, NEW_YORK, MORNING, naive)


# --- find_slot ---------------------------------------------------------------------------


def test_find_slot_returns_the_block_and_end_of_an_exact_start() -> None:
    blocks = [_block("09:00", "10:00", 30, CLINIC_A), _block("13:00", "14:00", 20, CLINIC_B)]

    found = find_slot(WINTER, NEW_YORK, blocks, _ny("13:20").astimezone(UTC))

    assert found is not None
    block, start, end = found
    assert block == blocks[1]
    assert (start.isoformat(), end.isoformat()) == (
        "2026-01-15T13:20:00-05:00",
        "2026-01-15T13:40:00-05:00",
    )
    assert find_slot(WINTER, NEW_YORK, blocks, _ny("09:00")) == (
        blocks[0],
        _ny("09:00"),
        _ny("09:30"),
    )


@pytest.mark.parametrize(
    "starts_at",
    [
        pytest.param(_ny("09:10"), id="inside-a-slot"),
        pytest.param(_ny("09:30") + timedelta(seconds=1), id="a-second-late"),
        pytest.param(_ny("10:00"), id="block-end"),
        pytest.param(_ny("11:00"), id="between-blocks"),
        pytest.param(_ny("13:00", date(2026, 1, 16)), id="another-day"),
    ],
)
def test_find_slot_rejects_other_starts(starts_at: datetime) -> None:
    blocks = [_block("09:00", "10:00", 30, CLINIC_A), _block("13:00", "14:00", 20, CLINIC_B)]

    assert find_slot(WINTER, NEW_YORK, blocks, starts_at) is None


def test_find_slot_across_transitions() -> None:
    spring = [_block("00:00", "05:00", 45)]
    fall = [_block("00:00", "05:00", 30)]

    # 02:15 does not exist: read with the EST offset it is 03:15 EDT, not a slot start.
    assert (
        find_slot(SPRING_NY, NEW_YORK, spring, datetime.fromisoformat("2026-03-08T02:15:00-05:00"))
        is None
    )
    # 03:00 EDT is on the wall-clock grid but overlaps 01:30 EST's slot.
    assert find_slot(SPRING_NY, NEW_YORK, spring, _ny("03:00", SPRING_NY)) is None
    crossing = find_slot(SPRING_NY, NEW_YORK, spring, _ny("01:30", SPRING_NY))
    assert crossing is not None
    assert crossing[2].isoformat() == "2026-03-08T03:15:00-04:00"

    first = find_slot(FALL_NY, NEW_YORK, fall, _ny("01:30", FALL_NY))
    assert first is not None
    assert first[1].isoformat() == "2026-11-01T01:30:00-04:00"
    assert first[2].isoformat() == "2026-11-01T01:00:00-05:00"
    assert find_slot(FALL_NY, NEW_YORK, fall, _ny("01:30", FALL_NY, fold=1)) is None
    assert find_slot(FALL_NY, NEW_YORK, fall, _ny("01:00", FALL_NY, fold=1)) is None


# --- random cases against the oracle -----------------------------------------------------

ZONES = [
    "America/New_York",
    "Europe/Berlin",
    "Australia/Lord_Howe",  # 30-minute DST
    "Asia/Kolkata",  # +05:30, no DST
    "America/Santiago",  # transitions at midnight: some days start at 01:00
    "Pacific/Chatham",  # +12:45 / +13:45
    "America/St_Johns",  # -03:30 / -02:30
    "UTC",
]
OTHER_ZONES = [UTC, timezone(timedelta(hours=5, minutes=45)), ZoneInfo("Asia/Tokyo")]


@cache
def _transition_dates(zone_name: str) -> list[date]:
    """Local dates around each offset change in 2025-2027, found by hourly sampling."""
    zone = ZoneInfo(zone_name)
    instant = datetime(2025, 1, 1, tzinfo=UTC)
    previous = instant.astimezone(zone)
    dates: set[date] = set()
    while instant.year < 2028:
        instant += timedelta(hours=1)
        current = instant.astimezone(zone)
        if current.utcoffset() != previous.utcoffset():
            dates |= {previous.date(), current.date()}
        previous = current
    return sorted(dates)


@dataclass(frozen=True)
class Case:
    zone_name: str
    day: date
    blocks: list[Block]
    busy: list[tuple[datetime, datetime]]
    now: datetime


SLOT_MINUTES = st.one_of(
    st.sampled_from([5, 10, 15, 20, 25, 30, 40, 45, 60, 90, 120, 240]), st.integers(5, 240)
)
MINUTE_OF_DAY = st.one_of(
    st.integers(0, 95).map(lambda q: q * 15),
    st.integers(0, 1439),
    st.integers(0, 5 * 60),  # where most transitions happen
)


@st.composite
def cases(draw: st.DrawFn) -> Case:
    zone_name = draw(st.sampled_from(ZONES))
    zone = ZoneInfo(zone_name)
    any_day = st.dates(date(2025, 1, 1), date(2027, 12, 31))
    transitions = _transition_dates(zone_name)
    day = draw(st.one_of(st.sampled_from(transitions), any_day) if transitions else any_day)

    # Blocks between consecutive distinct minutes never overlap, though they may touch.
    points = sorted(draw(st.sets(MINUTE_OF_DAY, min_size=2, max_size=7)))
    pairs = [pair for i, pair in enumerate(pairwise(points)) if i == 0 or draw(st.booleans())]
    blocks = [
        Block(
            draw(st.sampled_from([CLINIC_A, CLINIC_B])),
            time(start // 60, start % 60),
            time(end // 60, end % 60),
            draw(st.one_of(SLOT_MINUTES, st.integers(5, max(5, min(240, end - start))))),
        )
        for start, end in pairs
    ]

    # Busy edges and `now` often sit exactly on slot boundaries, where touching matters.
    boundaries = sorted(
        {edge for b in blocks for slot in _oracle_grid(zone_name, day, b) for edge in slot}
    )
    window_start = datetime.combine(day, time(), UTC) - timedelta(hours=15)
    anywhere = st.integers(0, 54 * 60).map(lambda m: window_start + m * MINUTE)
    instant = st.one_of(st.sampled_from(boundaries), anywhere) if boundaries else anywhere
    shown_in = st.sampled_from([zone, *OTHER_ZONES])

    busy = []
    for _ in range(draw(st.integers(0, 20))):
        start = draw(instant)
        if draw(st.sampled_from([True] * 7 + [False])):  # mostly appointment-sized
            end = start + draw(st.one_of(SLOT_MINUTES, st.integers(1, 90))) * MINUTE
        else:
            end = draw(instant)
            if end == start:
                end += draw(st.integers(1, 240)) * MINUTE
            start, end = min(start, end), max(start, end)
        busy.append((start.astimezone(draw(shown_in)), end.astimezone(draw(shown_in))))
    now = draw(st.one_of(instant, st.just(window_start)))  # sometimes before every slot
    now += timedelta(seconds=draw(st.sampled_from([0, 0, -1, 1, 29])))
    blocks = draw(st.permutations(blocks))  # templates arrive in any order
    return Case(zone_name, day, blocks, busy, now.astimezone(draw(shown_in)))


@settings(derandomize=True, max_examples=400, deadline=None, database=None)
@given(cases())
def test_day_slots_match_a_brute_force_oracle(case: Case) -> None:
    zone = ZoneInfo(case.zone_name)

    slots = day_slots(case.day, zone, case.blocks, case.busy, case.now)

    assert _rows(slots) == _oracle_day(case.zone_name, case.day, case.blocks, case.busy, case.now)
    for slot in slots:
        assert slot.starts_at.tzinfo is zone
    instants = [(s.starts_at.astimezone(UTC), s.ends_at.astimezone(UTC)) for s in slots]
    assert all(end <= start for (_, end), (start, _) in pairwise(instants))

    for block in case.blocks:
        times = slot_times(case.day, zone, block)
        _assert_well_formed(times, zone, case.day, [block.slot_minutes] * len(times))
        for start, end in times:
            found = find_slot(case.day, zone, case.blocks, start.astimezone(UTC))
            assert found is not None
            assert (found[0], found[1].isoformat(), found[2].isoformat()) == (
                block,
                start.isoformat(),
                end.isoformat(),
            )
            # A minute into a slot, in real time, is no slot's start: slots never overlap.
            inside = start.astimezone(UTC) + MINUTE
            assert find_slot(case.day, zone, case.blocks, inside) is None
