"""Prometheus's part: scrape each target's /metrics every second and keep every sample,
labelled with the target's name as ``instance``."""

import asyncio
import contextlib
import time

import aiohttp
from prometheus_client.parser import text_string_to_metric_families

from bench.dashboard.promql import Scrapes

INTERVAL_S = 1.0


async def scrape_every_second(
    http: aiohttp.ClientSession,
    targets: dict[str, str],
    scrapes: Scrapes,
    began: float,
    stop: asyncio.Event,
) -> int:
    """Until ``stop`` is set; the number of scrapes that failed (a target not answering)."""
    failed = 0
    due = time.monotonic()
    while not stop.is_set():
        at = time.monotonic() - began
        for instance, url in targets.items():
            try:
                async with http.get(url) as response:
                    text = await response.text()
            except (aiohttp.ClientError, TimeoutError):
                failed += 1
                continue
            scrapes.add(
                at,
                [
                    (sample.name, {**sample.labels, "instance": instance}, sample.value)
                    for family in text_string_to_metric_families(text)
                    for sample in family.samples
                ],
            )
        due += INTERVAL_S
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), max(0.0, due - time.monotonic()))
    return failed
