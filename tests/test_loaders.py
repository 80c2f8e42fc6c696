"""A request's loaders (loaders/registry.py): each made at its first use, once per set."""

from typing import Any

from loaders import Loaders

# What the loaders would read with: not reached, as nothing is loaded here.
UNUSED: Any = None


async def test_a_loader_is_made_when_first_used_and_kept_for_its_set_only() -> None:
    first, second = (Loaders(UNUSED, UNUSED, UNUSED, UNUSED) for _ in range(2))

    doctor = first.doctor

    assert first.doctor is doctor
    assert second.doctor is not doctor
    assert sorted(vars(first)) == [
        "_audit", "_caller", "_sessions", "_slot_cache", "doctor"
    ]  # fmt: skip
