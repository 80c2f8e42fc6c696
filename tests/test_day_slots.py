"""A doctor-day's compact form (domain/day_slots.py): what comes back out of it."""

import uuid
from datetime import datetime, timedelta, timezone

from domain.day_slots import DaySlots, _slots_of_body
from domain.slot_grid import Slot

NEW_YORK_WINTER = timezone(timedelta(hours=-5))
CLINICS = (uuid.UUID(int=1), uuid.UUID(int=2))


def _day() -> list[Slot]:
    first = datetime(2026, 12, 7, 9, 0, tzinfo=NEW_YORK_WINTER)
    return [
        Slot(
            CLINICS[index % 2],
            first + timedelta(minutes=30 * index),
            first + timedelta(minutes=30 * index + 30),
            index != 1,
        )
        for index in range(4)
    ]


def test_a_day_decoded_again_gives_the_same_slots_made_once() -> None:
    encoded = DaySlots.of(_day()).encode()
    _slots_of_body.cache_clear()

    first = DaySlots.decode(encoded).slots()
    # Another copy of the same bytes, as every read from Redis brings.
    second = DaySlots.decode(bytes(bytearray(encoded))).slots()

    assert first == second == _day()
    assert [a is b for a, b in zip(first, second, strict=True)] == [True] * 4
    assert (_slots_of_body.cache_info().hits, _slots_of_body.cache_info().misses) == (1, 1)
    # Each caller gets a list of its own: one changing it changes nothing for the next.
    first.clear()
    assert DaySlots.decode(encoded).slots() == _day()


def test_a_day_made_from_slots_gives_them_back() -> None:
    assert DaySlots.of(_day()).slots() == _day()
    assert DaySlots.of(_day()).first_free == int(_day()[0].starts_at.timestamp()) * 1_000_000
