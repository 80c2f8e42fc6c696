"""The one place the domain, its loaders and its workers ask for "now".

Calendar rules (a slot in the past, reminders 24 h ahead, when a message is
due) read this clock, so tests can travel to any weekday, hour or DST eve and
check that those rules hold there. Time that guards security or the machinery
(token expiry, send leases, the outbox relay) stays on the system and database
clocks, which a pinned calendar must not fool.
"""

import time
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime, timedelta


class Clock:
    def __init__(self) -> None:
        self._offset = timedelta(0)

    def now(self) -> datetime:
        return datetime.now(UTC) + self._offset

    @contextmanager
    def travel_to(self, instant: datetime) -> Iterator[None]:
        """Run as if it were ``instant``, with time still moving forward from there."""
        assert instant.tzinfo is not None, "an instant needs its offset"
        previous = self._offset
        self._offset = instant - datetime.fromtimestamp(time.time(), UTC)
        try:
            yield
        finally:
            self._offset = previous


clock = Clock()
