import os
import threading
import time
import uuid

_lock = threading.Lock()
_last = 0  # the last id's 122 free bits: 48 of milliseconds, then 74 random


def uuid7() -> uuid.UUID:
    """An RFC 9562 version 7 UUID: 48-bit Unix milliseconds, then random bits.

    Monotonic within the process (RFC 9562, method 2): ids made in the same
    millisecond still sort in the order they were made, so "newest first" by id
    is well defined.
    """
    global _last  # noqa: PLW0603 - the one piece of state monotonicity needs
    unix_ms = time.time_ns() // 1_000_000 & 0xFFFF_FFFF_FFFF
    candidate = unix_ms << 74 | int.from_bytes(os.urandom(10), "big") >> 6
    with _lock:
        _last = candidate if candidate > _last else _last + 1
        bits = _last
    unix_ms, rand_a, rand_b = bits >> 74, (bits >> 62) & 0xFFF, bits & (1 << 62) - 1
    return uuid.UUID(int=unix_ms << 80 | 0x7 << 76 | rand_a << 64 | 0x2 << 62 | rand_b)
