"""Page arguments of every connection, read one way: ``first`` (default 20) and ``after``;
and whether a page's nodes ask for a field, so it can be filled for the whole page at once."""

from collections.abc import Iterable
from typing import Any

from strawberry.types.nodes import Selection

from domain.pagination import Cursor

DEFAULT_PAGE_SIZE = 20


def page_size(first: int | None) -> int:
    return DEFAULT_PAGE_SIZE if first is None else first


def cursor(after: str | None) -> Cursor | None:
    return Cursor.decode(after) if after is not None else None


def selects(info: Any, name: str) -> bool:
    """Whether the field being resolved selects ``name`` anywhere below it (through
    fragments too): for a connection, whether its nodes ask for that field."""
    return _selects(info.selected_fields, name)


def _selects(selections: Iterable[Selection], name: str) -> bool:
    for selection in selections:
        if getattr(selection, "name", None) == name:
            return True
        if _selects(selection.selections, name):
            return True
    return False
