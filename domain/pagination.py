"""Keyset pagination: cursors name the last row seen, never an offset."""

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from services.errors import BadUserInput

MAX_PAGE_SIZE = 100
INVALID_CURSOR = "Invalid cursor in `after`."

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after a row in (timestamp DESC, id DESC) order."""

    at: datetime
    id: str

    def uuid(self) -> uuid.UUID:
        try:
            return uuid.UUID(self.id)
        except ValueError:
            raise BadUserInput(INVALID_CURSOR) from None

    def integer(self) -> int:
        try:
            return int(self.id)
        except ValueError:
            raise BadUserInput(INVALID_CURSOR) from None

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            at, id_ = raw.split("|")
            cursor = cls(datetime.fromisoformat(at), id_)
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise BadUserInput(INVALID_CURSOR) from error
        if cursor.at.tzinfo is None:
            raise BadUserInput(INVALID_CURSOR)
        return cursor


def check_page_size(first: int) -> int:
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE_SIZE}, got {first}.")
    return first
