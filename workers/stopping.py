"""Stopping workers run inside another process (``medappt dev``): as a signal stops
``medappt worker``, not as arq's ``close()`` alone does."""

import asyncio
from collections.abc import Sequence

from arq.worker import Worker

from workers.settings import WorkerSettings

# How often to look again while a job is being started (a few Redis round trips).
_STARTING_POLL_S = 0.005


async def close_after_jobs(
    workers: Sequence[Worker], wait_s: float = WorkerSettings.job_completion_wait
) -> None:
    """No new job, the jobs under way given ``wait_s`` to finish, then ``close()``.

    ``close()`` alone cancels the jobs in flight: a send cut off midway goes out again
    once its claim lapses, and a job cancelled while arq records its end re-raises that
    cancellation from ``close()`` (``medappt dev`` then exited 1 on Ctrl-C)."""
    for worker in workers:
        worker.allow_pick_jobs = False
    loop = asyncio.get_running_loop()
    deadline = loop.time() + wait_s
    # A poll under way when picking stopped still starts the jobs it has read: it counts
    # them (job_counter) before their tasks exist. Quiet for one poll's time means no
    # such poll is left.
    looked_again = False
    while (left := deadline - loop.time()) > 0:
        in_flight = [t for w in workers for t in w.tasks.values() if not t.done()]
        if in_flight:
            looked_again = False
            await asyncio.wait(in_flight, timeout=left)
        elif any(w.job_counter for w in workers):
            looked_again = False
            await asyncio.sleep(_STARTING_POLL_S)
        elif not looked_again:
            looked_again = True
            await asyncio.sleep(min(left, max(w.poll_delay_s for w in workers)))
        else:
            break
    for worker in workers:
        await worker.close()
