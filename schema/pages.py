"""Page arguments of every connection, read one way: ``first`` (default 20) and ``after``."""

from domain.pagination import Cursor

DEFAULT_PAGE_SIZE = 20


def page_size(first: int | None) -> int:
    return DEFAULT_PAGE_SIZE if first is None else first


def cursor(after: str | None) -> Cursor | None:
    return Cursor.decode(after) if after is not None else None
