"""An HTTP load generator for one endpoint: open loop at a fixed rate, or closed loop.

Open loop: request ``i`` is due at ``start + i / rate`` whatever happened to the others, and
its latency is measured from that due time, so time spent queueing (in the generator, the
connection pool, the server's accept queue) counts. Closed loop: ``workers`` coroutines each
send the next request as soon as their previous one is answered; that finds the most the
server can do, and latency is then measured from the actual send.

Requests are prepared before a run (bodies already encoded) so the generator spends its CPU
on sending. The first ``warmup_s`` seconds of each run are sent but not measured.
"""

import asyncio
import itertools
import math
import time
from collections import Counter
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

import aiohttp

OK = "ok"
# Outcomes of requests that got no HTTP reply.
UNANSWERED = ("timeout", "transport")

# Classify a reply: request index, HTTP status and body to an outcome label (``OK`` or why not).
Classify = Callable[[int, int, bytes], str]


@dataclass(frozen=True, slots=True)
class Request:
    body: bytes
    headers: dict[str, str]


@dataclass(frozen=True, slots=True)
class Sample:
    due: float  # perf_counter seconds; the actual send in a closed loop
    lag: float  # how late the generator sent it (open loop), seconds
    latency: float  # from ``due`` to the whole reply read, seconds
    outcome: str


@dataclass(frozen=True, slots=True)
class RunStats:
    load: str  # "300 req/s" or "16 workers"
    samples: int
    window_s: float  # from the first measured request's due time to the last reply
    due_s: float  # the time the measured requests were due in (sent in, closed loop)
    latencies_ms: list[float]  # sorted
    outcomes: Counter[str]
    lag_p99_ms: float
    replies: int  # HTTP replies in the whole run, warm-up included
    exhausted: bool = False  # a closed loop ran out of prepared requests before the end

    @property
    def answered(self) -> int:
        """Measured requests that got an HTTP reply, errors included."""
        return self.samples - sum(self.count(prefix) for prefix in UNANSWERED)

    @property
    def achieved_rps(self) -> float:
        return self.answered / self.window_s if self.window_s > 0 else 0.0

    @property
    def ok_rps(self) -> float:
        """OK replies per second of the time their requests were due in: an open loop's
        offered rate when every request succeeded, however late the last reply (its
        latency is the p99's to judge). Over ``window_s``, which ends at the last reply,
        a row could never show the rate it offered."""
        return self.count(OK) / self.due_s if self.due_s > 0 else 0.0

    def percentile(self, fraction: float) -> float:
        """Nearest-rank percentile, milliseconds (NaN without samples)."""
        if not self.latencies_ms:
            return math.nan
        rank = max(1, math.ceil(fraction * len(self.latencies_ms)))
        return self.latencies_ms[rank - 1]

    @property
    def max_ms(self) -> float:
        return self.latencies_ms[-1] if self.latencies_ms else math.nan

    def count(self, prefix: str) -> int:
        return sum(n for outcome, n in self.outcomes.items() if outcome.startswith(prefix))


def combined(runs: Sequence[RunStats]) -> RunStats:
    """Runs of one load, taken in turns with another's, as one run: their requests and
    windows summed, their latencies pooled."""
    return RunStats(
        load=runs[0].load,
        samples=sum(run.samples for run in runs),
        window_s=sum(run.window_s for run in runs),
        due_s=sum(run.due_s for run in runs),
        latencies_ms=sorted(itertools.chain.from_iterable(run.latencies_ms for run in runs)),
        outcomes=sum((run.outcomes for run in runs), Counter()),
        lag_p99_ms=max(run.lag_p99_ms for run in runs),
        replies=sum(run.replies for run in runs),
        exhausted=any(run.exhausted for run in runs),
    )


@dataclass
class _Recorder:
    measured_from: float
    measured_until: float = math.inf
    samples: list[Sample] = field(default_factory=list)
    replies: int = 0

    def add(self, sample: Sample) -> None:
        if not sample.outcome.startswith(UNANSWERED):
            self.replies += 1
        if self.measured_from <= sample.due < self.measured_until:
            self.samples.append(sample)

    def stats(
        self, load: str, window_end: float, due_s: float, *, exhausted: bool = False
    ) -> RunStats:
        latencies = sorted(sample.latency * 1e3 for sample in self.samples)
        lags = sorted(sample.lag * 1e3 for sample in self.samples)
        lag_p99 = lags[max(0, math.ceil(0.99 * len(lags)) - 1)] if lags else math.nan
        return RunStats(
            load=load,
            samples=len(self.samples),
            window_s=window_end - self.measured_from,
            due_s=due_s,
            latencies_ms=latencies,
            outcomes=Counter(sample.outcome for sample in self.samples),
            lag_p99_ms=lag_p99,
            replies=self.replies,
            exhausted=exhausted,
        )


UVICORN_KEEP_ALIVE_S = 5  # uvicorn's default timeout_keep_alive, which serve keeps


def client_session(connections: int, timeout_s: float) -> aiohttp.ClientSession:
    """A session with a connection pool big enough for an open loop's backlog."""
    # Idle connections are dropped before uvicorn's keep-alive timeout (5 s) closes them:
    # a POST sent on one the server is closing at that moment is reset, and not retried.
    connector = aiohttp.TCPConnector(
        limit=connections, limit_per_host=connections, keepalive_timeout=UVICORN_KEEP_ALIVE_S - 1
    )
    return aiohttp.ClientSession(
        connector=connector,
        timeout=aiohttp.ClientTimeout(total=timeout_s),
        # The server does not set cookies, and a jar costs time per request.
        cookie_jar=aiohttp.DummyCookieJar(),
    )


async def send(
    http: aiohttp.ClientSession, url: str, request: Request, classify: Classify, index: int
) -> str:
    """Send one request; its outcome, transport failures included."""
    try:
        async with http.post(url, data=request.body, headers=request.headers) as response:
            body = await response.read()
            status = response.status
    except TimeoutError:
        return "timeout"
    except aiohttp.ClientError as error:
        return f"transport: {type(error).__name__}"
    return classify(index, status, body)


async def open_loop(
    http: aiohttp.ClientSession,
    url: str,
    requests: Sequence[Request],
    classify: Classify,
    *,
    rate: float,
    warmup_s: float,
    duration_s: float,
) -> RunStats:
    """Requests at ``rate`` per second for ``warmup_s + duration_s``; the last part measured."""
    total = round((warmup_s + duration_s) * rate)
    if total > len(requests):
        raise ValueError(f"{total} requests needed at {rate}/s, {len(requests)} prepared")
    start = time.perf_counter() + 0.05
    # Measured from a request's own due time, computed as it is below: the row counts
    # exactly the requests offered in ``duration_s``.
    first_measured = round(warmup_s * rate)
    recorder = _Recorder(measured_from=start + first_measured / rate)
    in_flight: set[asyncio.Task[None]] = set()

    async def one(index: int, due: float) -> None:
        sent = time.perf_counter()
        outcome = await send(http, url, requests[index], classify, index)
        recorder.add(Sample(due, sent - due, time.perf_counter() - due, outcome))

    index = 0
    while index < total:
        now = time.perf_counter()
        # Everything due by now goes out in this pass, even if the loop woke up late.
        while index < total and start + index / rate <= now:
            task = asyncio.create_task(one(index, start + index / rate))
            in_flight.add(task)
            task.add_done_callback(in_flight.discard)
            index += 1
        if index < total:
            await asyncio.sleep(max(0.0, start + index / rate - time.perf_counter()))
    while in_flight:
        await asyncio.gather(*list(in_flight))
    last_reply = max((s.due + s.latency for s in recorder.samples), default=start + warmup_s)
    # The window covers every measured request's due time and its reply.
    window_end = max(start + warmup_s + duration_s, last_reply)
    return recorder.stats(f"{rate:g} req/s", window_end, (total - first_measured) / rate)


async def closed_loop(
    http: aiohttp.ClientSession,
    url: str,
    requests: Sequence[Request],
    classify: Classify,
    *,
    workers: int,
    warmup_s: float,
    duration_s: float,
) -> RunStats:
    """``workers`` coroutines sending back to back; replies during the last part counted."""
    start = time.perf_counter()
    end = start + warmup_s + duration_s
    recorder = _Recorder(measured_from=start + warmup_s, measured_until=end)
    indices = itertools.count()
    exhausted = False

    async def worker() -> None:
        nonlocal exhausted
        while time.perf_counter() < end:
            index = next(indices)
            if index >= len(requests):
                exhausted = True
                return
            sent = time.perf_counter()
            outcome = await send(http, url, requests[index], classify, index)
            done = time.perf_counter()
            # Counted by when it was answered: the window's throughput is what it finished.
            recorder.add(Sample(done, 0.0, done - sent, outcome))

    await asyncio.gather(*(worker() for _ in range(workers)))
    window_end = min(end, time.perf_counter())
    label = f"{workers} worker" + ("" if workers == 1 else "s")
    due_s = window_end - recorder.measured_from
    return recorder.stats(label, window_end, due_s, exhausted=exhausted)
