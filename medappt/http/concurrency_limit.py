"""At most ``MEDAPPT_MAX_CONCURRENT_REQUESTS`` GraphQL requests run at once in a process;
the others wait their turn, first come first served, within the request deadline."""

import asyncio

from starlette.types import ASGIApp, Receive, Scope, Send

GRAPHQL_PATH = "/graphql"


class ConcurrencyLimit:
    """A process has one core: past a few dozen requests at once, more only wait longer
    inside (for a pooled connection, for the event loop) while each holds its parsed
    document, rows and loaders in memory (docs/performance.md, "Resident memory"). A
    request waiting here holds nothing but its connection. Probes and metrics are
    never held back."""

    def __init__(self, app: ASGIApp, *, limit: int) -> None:
        self.app = app
        self._turns = asyncio.Semaphore(limit)

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http" or scope["path"] != GRAPHQL_PATH:
            await self.app(scope, receive, send)
            return
        async with self._turns:
            await self.app(scope, receive, send)
