"""Password hashing with argon2id at no less than OWASP's minimum (19 MiB, t=2, p=1).

A hash or a check takes tens of milliseconds of CPU on purpose. It runs on threads of
its own (argon2 releases the GIL), so a sign-in does not stall every other request of
its process, and may use a core the event loop does not. One thread per usable core:
more would not be faster, and each run holds 19 MiB.
"""

import asyncio
from concurrent.futures import ThreadPoolExecutor

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

from services.cores import usable_cores

_HASHER = PasswordHasher(time_cost=2, memory_cost=19 * 1024, parallelism=1)
_THREADS = ThreadPoolExecutor(usable_cores(), thread_name_prefix="argon2")


def _verify(password_hash: str, password: str) -> bool:
    try:
        return _HASHER.verify(password_hash, password)
    except (VerificationError, InvalidHashError):
        return False


async def hash_password(password: str) -> str:
    return await asyncio.get_running_loop().run_in_executor(_THREADS, _HASHER.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    return await asyncio.get_running_loop().run_in_executor(
        _THREADS, _verify, password_hash, password
    )


def needs_rehash(password_hash: str) -> bool:
    return _HASHER.check_needs_rehash(password_hash)


# Checked against when an e-mail is unknown, so that both cases cost one argon2 run.
DECOY_HASH = _HASHER.hash("no user has this password")
