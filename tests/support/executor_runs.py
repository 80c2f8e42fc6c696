"""One document run on a test schema, as the executor differential tests compare it."""

import asyncio
from typing import Any

from strawberry import Schema


async def executed(
    schema: Schema, document: str, calls: list[str]
) -> tuple[Any, list[Any], list[str]]:
    """The data, the formatted errors and the resolver calls (recorded into ``calls``
    by the schema's resolvers) of one execution."""
    calls.clear()
    result = await schema.execute(document)
    # A bubbling error leaves its siblings' coroutines to graphql-core to settle in the
    # background; a few turns of the loop let them run (they are never waited on).
    for _ in range(10):
        await asyncio.sleep(0)
    return result.data, [error.formatted for error in result.errors or ()], list(calls)
