"""argon2 runs off the event loop: while a password is checked, the process goes on
serving (a sign-in costs tens of milliseconds of CPU on purpose)."""

import asyncio
import threading
from typing import Literal

import pytest
from argon2 import PasswordHasher

from services import passwords
from services.passwords import DECOY_HASH, hash_password, needs_rehash, verify_password


async def test_a_hash_verifies_its_password_and_nothing_else() -> None:
    stored = await hash_password("correct horse battery")

    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")
    assert await verify_password(stored, "correct horse battery") is True
    assert await verify_password(stored, "correct horse batterY") is False
    assert await verify_password("not a hash", "correct horse battery") is False
    assert await verify_password(DECOY_HASH, "no user has this password") is True
    assert needs_rehash(stored) is False


class _WaitingHasher(PasswordHasher):
    """Checks a password only once the event loop has run something else meanwhile."""

    def __init__(self, started: asyncio.Event, loop_ran: threading.Event) -> None:
        super().__init__(time_cost=2, memory_cost=19 * 1024, parallelism=1)
        self.loop = asyncio.get_running_loop()
        self.started = started
        self.loop_ran = loop_ran
        self.threads: list[str] = []

    def verify(self, hash: str | bytes, password: str | bytes) -> Literal[True]:
        self.threads.append(threading.current_thread().name)
        self.loop.call_soon_threadsafe(self.started.set)
        # On the loop's own thread this would wait in vain: nothing else can run.
        if not self.loop_ran.wait(timeout=10):
            raise AssertionError("the event loop stood still while a password was checked")
        return super().verify(hash, password)


async def test_the_event_loop_runs_while_a_password_is_checked(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    started, loop_ran = asyncio.Event(), threading.Event()
    hasher = _WaitingHasher(started, loop_ran)
    monkeypatch.setattr(passwords, "_HASHER", hasher)

    check = asyncio.create_task(verify_password(DECOY_HASH, "no user has this password"))
    async with asyncio.timeout(10):
        await started.wait()
    loop_ran.set()

    assert await check is True
    assert len(hasher.threads) == 1
    assert hasher.threads[0].startswith("argon2")
    assert hasher.threads[0] != threading.current_thread().name
