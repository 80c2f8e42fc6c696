"""A timeout on a server's answer that this process's own stalls do not trip.

asyncio runs an expired timer before the task that an answer, arrived meanwhile, would
wake; uvloop runs its timers before it even reads the socket. So when the event loop was
blocked past a deadline (a garbage-collector pass over a large heap, argon2 or other
CPU-bound work, a starved CPU), an answer the server sent in time is thrown away and a
healthy server is reported as down: SERVICE_UNAVAILABLE with Redis idle.
"""

import asyncio
from types import TracebackType

# The least postponement: a timer of a millisecond runs after the loop's next look at
# its sockets (uvloop runs a shorter one at once, as call_soon).
_ONE_TURN_SECONDS = 0.001


class FairTimeout:
    """``async with FairTimeout(seconds):`` like ``asyncio.timeout(seconds)``, but an
    expiry that the loop reaches late moves the deadline out by as much as it was late
    (at most ``seconds`` more, once): the loop first reads what came while it was
    blocked. On time (a server that really did not answer), it still waits one turn of
    the loop. Raises TimeoutError."""

    __slots__ = ("_deadline", "_handle", "_seconds", "_timeout")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._timeout = asyncio.timeout(None)
        self._deadline = 0.0
        self._handle: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> None:
        await self._timeout.__aenter__()
        loop = asyncio.get_running_loop()
        self._deadline = loop.time() + self._seconds
        self._handle = loop.call_at(self._deadline, self._expire)

    def _expire(self) -> None:
        now = asyncio.get_running_loop().time()
        late = now - self._deadline
        self._timeout.reschedule(now + max(_ONE_TURN_SECONDS, min(late, self._seconds)))

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        await self._timeout.__aexit__(exc_type, exc, traceback)
