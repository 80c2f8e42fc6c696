"""Keyset pagination: cursors name the last row seen, never an offset."""

import base64
import binascii
import uuid
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Generic, TypeVar

from domain.errors import BadUserInput

MAX_PAGE_SIZE = 100

T = TypeVar("T")


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    has_next_page: bool


@dataclass(frozen=True, slots=True)
class Cursor:
    """Position after a row in (timestamp DESC, id DESC) order."""

    at: datetime
    id: uuid.UUID

    def encode(self) -> str:
        raw = f"{self.at.isoformat()}|{self.id}".encode()
        return base64.urlsafe_b64encode(raw).decode().rstrip("=")

    @classmethod
    def decode(cls, value: str) -> "Cursor":
        try:
            raw = base64.urlsafe_b64decode(value + "=" * (-len(value) % 4)).decode()
            at, id_ = raw.split("|")
            cursor = cls(datetime.fromisoformat(at), uuid.UUID(id_))
        except (binascii.Error, UnicodeDecodeError, ValueError) as error:
            raise BadUserInput("Invalid cursor in `after`.") from error
        if cursor.at.tzinfo is None:
            raise BadUserInput("Invalid cursor in `after`.")
        return cursor


def check_page_size(first: int) -> int:
    if not 0 <= first <= MAX_PAGE_SIZE:
        raise BadUserInput(f"`first` must be between 0 and {MAX_PAGE_SIZE}, got {first}.")
    return first
