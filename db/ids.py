import os
import time
import uuid


def uuid7() -> uuid.UUID:
    """An RFC 9562 version 7 UUID: 48-bit Unix milliseconds, then random bits."""
    unix_ms = time.time_ns() // 1_000_000
    value = (unix_ms & 0xFFFF_FFFF_FFFF) << 80 | int.from_bytes(os.urandom(10))
    value &= ~(0xF << 76)
    value |= 0x7 << 76
    value &= ~(0x3 << 62)
    value |= 0x2 << 62
    return uuid.UUID(int=value)
