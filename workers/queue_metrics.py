"""``medappt_jobs_queued``: how many jobs wait in the arq queue, counted every second."""

from typing import Any

from arq.constants import default_queue_name

from services.metrics import JOBS_QUEUED


async def count_queued_jobs(ctx: dict[str, Any]) -> int:
    queued = int(await ctx["redis"].zcard(default_queue_name))
    JOBS_QUEUED.set(queued)
    return queued
