"""bench.load's open loop: a row that answered every request it offered shows the offered
rate, whenever its last reply came (the booking SLA's >= 300/s is judged by it)."""

import asyncio
from collections import Counter
from collections.abc import AsyncIterator

import pytest
from aiohttp import web

from bench.load import OK, Request, RunStats, client_session, combined, open_loop

RATE = 200.0
WARMUP_S = 0.05
DURATION_S = 0.25


REPLY_LATENCY_S = 0.1  # every reply's: the last lands past the row's due window


@pytest.fixture
async def slow_server() -> AsyncIterator[str]:
    async def answer(_: web.Request) -> web.Response:
        await asyncio.sleep(REPLY_LATENCY_S)  # the server's latency, not a wait in the test
        return web.Response(text="{}")

    app = web.Application()
    app.router.add_post("/graphql", answer)
    runner = web.AppRunner(app)
    await runner.setup()
    site = web.TCPSite(runner, "127.0.0.1", 0)
    await site.start()
    host, port = runner.addresses[0][:2]
    try:
        yield f"http://{host}:{port}/graphql"
    finally:
        await runner.cleanup()


def _ok(_: int, status: int, __: bytes) -> str:
    return OK if status == 200 else f"HTTP {status}"


async def test_a_row_answered_late_still_shows_the_rate_it_offered(slow_server: str) -> None:
    requests = [Request(b"{}", {"Content-Type": "application/json"})] * 60
    async with client_session(connections=100, timeout_s=30) as http:
        stats = await open_loop(
            http, slow_server, requests, _ok, rate=RATE, warmup_s=WARMUP_S, duration_s=DURATION_S
        )

    assert stats.samples == 50  # 0.25 s at 200/s; the first 10 were the warm-up
    assert stats.count(OK) == 50
    assert stats.due_s == DURATION_S
    assert stats.ok_rps == RATE
    # The last reply came at least REPLY_LATENCY_S after the last request was due.
    assert stats.window_s >= DURATION_S - 1 / RATE + REPLY_LATENCY_S
    assert stats.achieved_rps < RATE


def test_turns_combined_are_one_run_of_all_their_requests() -> None:
    def run(samples: int, window_s: float, latencies: list[float], lag: float) -> RunStats:
        return RunStats(
            load="16 workers",
            samples=samples,
            window_s=window_s,
            due_s=window_s,
            latencies_ms=latencies,
            outcomes=Counter({OK: samples - 1, "HTTP 500": 1}),
            lag_p99_ms=lag,
            replies=samples + 5,
        )

    first = run(3, 1.0, [1.0, 4.0, 9.0], 0.5)
    second = run(5, 1.5, [2.0, 3.0, 5.0, 6.0, 7.0], 0.25)
    both = combined([first, second])
    assert both.load == "16 workers"
    assert both.samples == 8
    assert both.window_s == 2.5
    assert both.due_s == 2.5
    assert both.latencies_ms == [1.0, 2.0, 3.0, 4.0, 5.0, 6.0, 7.0, 9.0]
    assert both.outcomes == Counter({OK: 6, "HTTP 500": 2})
    assert both.lag_p99_ms == 0.5
    assert both.replies == 18
    assert both.exhausted is False
    assert both.achieved_rps == 8 / 2.5
