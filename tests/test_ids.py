import time

from db.ids import uuid7


def test_uuid7_is_version_7_time_ordered_and_unique() -> None:
    before_ms = time.time_ns() // 1_000_000
    ids = [uuid7() for _ in range(50_000)]
    after_ms = time.time_ns() // 1_000_000

    assert ids == sorted(ids)
    assert len(set(ids)) == 50_000
    assert {(value.version, value.variant) for value in ids} == {(7, "specified in RFC 4122")}
    assert before_ms <= int(ids[0].hex[:12], 16) <= int(ids[-1].hex[:12], 16) <= after_ms
