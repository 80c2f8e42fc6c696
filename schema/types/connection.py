"""Relay-style connections: edges with cursors and a PageInfo.

Cursors are encoded only when a query asks for them: most pages are read for their
nodes, and encoding one (ISO time, base64) cost more than reading the node's fields."""

from collections.abc import Callable
from typing import Any, Generic, TypeVar

import strawberry

from domain.pagination import Cursor, Page

Node = TypeVar("Node")
Row = TypeVar("Row")


@strawberry.type
class PageInfo:
    has_next_page: bool
    # The last row of the page and how its cursor is made; None for an empty page.
    last_row: strawberry.Private[Any]
    cursor_of: strawberry.Private[Callable[[Any], Cursor]]

    @strawberry.field
    def end_cursor(self) -> str | None:
        return None if self.last_row is None else self.cursor_of(self.last_row).encode()


def _edge_cursor(self: "Edge[Any]") -> str:
    return self.cursor_of(self.row).encode()


@strawberry.type
class Edge(Generic[Node]):
    cursor: str = strawberry.field(resolver=_edge_cursor)
    node: Node
    row: strawberry.Private[Any]
    cursor_of: strawberry.Private[Callable[[Any], Cursor]]


@strawberry.type
class Connection(Generic[Node]):
    edges: list[Edge[Node]]
    page_info: PageInfo

    @classmethod
    def from_page(
        cls,
        page: Page[Row],
        node: Callable[[Row], Node],
        cursor: Callable[[Row], Cursor],
    ) -> "Connection[Node]":
        return cls.of_nodes(page, [node(row) for row in page.items], cursor)

    @classmethod
    def of_nodes(
        cls, page: Page[Row], nodes: list[Node], cursor: Callable[[Row], Cursor]
    ) -> "Connection[Node]":
        """:meth:`from_page` with the page's nodes made already, in its order."""
        rows = page.items
        return cls(
            edges=[
                Edge(node=node, row=row, cursor_of=cursor)
                for row, node in zip(rows, nodes, strict=True)
            ],
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                last_row=rows[-1] if rows else None,
                cursor_of=cursor,
            ),
        )
