"""Stopping workers run inside another process (``medappt dev``): as a signal stops
``medappt worker``, not as arq's ``close()`` alone does."""

import asyncio
from collections.abc import Sequence

from arq.worker import Worker

from workers.settings import WorkerSettings


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
    while (in_flight := [t for w in workers for t in w.tasks.values() if not t.done()]) and (
        left := deadline - loop.time()
    ) > 0:
        await asyncio.wait(in_flight, timeout=left)
    for worker in workers:
        await worker.close()
