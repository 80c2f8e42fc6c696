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
# After the first late expiry, only a stall (late by a quarter of the timeout or more,
# not a busy turn) moves the deadline again: a loop stalled twice (collector passes back
# to back, or a burst of requests run after one) is still fair to the server. At most
# four timeouts are forgiven in all, so a server that does not answer is given up on.
_STALL = 0.25
_STALLS_FORGIVEN = 4


class FairTimeout:
    """``async with FairTimeout(seconds):`` like ``asyncio.timeout(seconds)``, but an
    expiry that the loop reaches late moves the deadline out by as much as it was late
    (at most ``seconds``), and again after each further stall: the loop first reads
    what came while it was blocked. On time (a server that really did not answer), it
    still waits one turn of the loop. Raises TimeoutError."""

    __slots__ = ("_deadline", "_forgiven", "_handle", "_seconds", "_timeout")

    def __init__(self, seconds: float) -> None:
        self._seconds = seconds
        self._timeout = asyncio.timeout(None)
        self._deadline = 0.0
        self._forgiven = 0.0
        self._handle: asyncio.TimerHandle | None = None

    async def __aenter__(self) -> None:
        await self._timeout.__aenter__()
        loop = asyncio.get_running_loop()
        self._expire_at(loop, loop.time() + self._seconds)

    def _expire_at(self, loop: asyncio.AbstractEventLoop, deadline: float) -> None:
        self._deadline = deadline
        self._handle = loop.call_at(deadline, self._expire)

    def _expire(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        late = now - self._deadline
        if not self._forgiven or late >= _STALL * self._seconds:
            late = min(late, self._seconds, _STALLS_FORGIVEN * self._seconds - self._forgiven)
            if late > _ONE_TURN_SECONDS:
                self._forgiven += late
                self._expire_at(loop, now + late)
                return
        self._timeout.reschedule(now + _ONE_TURN_SECONDS)

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        traceback: TracebackType | None,
    ) -> None:
        if self._handle is not None:
            self._handle.cancel()
        await self._timeout.__aexit__(exc_type, exc, traceback)
