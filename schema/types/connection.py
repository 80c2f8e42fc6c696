"""Relay-style connections: edges with cursors and a PageInfo."""

from collections.abc import Callable
from typing import Generic, TypeVar

import strawberry

from domain.pagination import Cursor, Page

Node = TypeVar("Node")
Row = TypeVar("Row")


@strawberry.type
class PageInfo:
    has_next_page: bool
    end_cursor: str | None


@strawberry.type
class Edge(Generic[Node]):
    cursor: str
    node: Node


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
        edges = [Edge(cursor=cursor(row).encode(), node=node(row)) for row in page.items]
        return cls(
            edges=edges,
            page_info=PageInfo(
                has_next_page=page.has_next_page,
                end_cursor=edges[-1].cursor if edges else None,
            ),
        )
