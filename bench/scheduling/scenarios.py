"""The loaded scenarios, one row per open- or closed-loop load: availableSlots on a cache
miss and on a cache hit, and bookAppointment."""

from bench.load import OK, Classify, Request
from bench.scheduling.bookings import Bookings
from bench.scheduling.fixture import HORIZON_DAYS
from bench.scheduling.harness import Harness, limited
from bench.scheduling.queries import SLOT_UNAVAILABLE, slots_classify
from bench.scheduling.reports import Report, Target


async def slots_miss(harness: Harness) -> Report:
    report = Report(
        "availableSlots, cache miss (a different doctor and date every request)",
        Target(p99_ms=25.0),
        [("ok", OK)],
    )
    pairs = harness.fixture.doctor_days(harness.rng)
    tokens = harness.browsing_tokens()
    offset = 0

    async def prepare(needed: int) -> tuple[list[Request], Classify]:
        nonlocal offset
        if needed > len(pairs):
            raise RuntimeError(f"{needed:,} distinct doctor-days needed, {len(pairs):,} exist")
        chosen = [pairs[(offset + i) % len(pairs)] for i in range(needed)]
        offset += needed
        await harness.redis.flushdb()
        requests = [
            harness.slots_request(doctor, day, tokens[i % len(tokens)])
            for i, (doctor, day) in enumerate(chosen)
        ]
        return requests, slots_classify

    await harness.run_rows(report, "miss", harness.options.miss_loads, prepare)
    report.notes.append(
        f"Doctor-days drawn from {len(pairs):,} (500 doctors x the working days of the next "
        f"{HORIZON_DAYS} days), none repeated within a row; Redis flushed before each row, "
        "so each request reads the cache, runs the one statement and stores the day."
    )
    return report


async def slots_hit(harness: Harness) -> Report:
    hit_keys = harness.options.hit_keys
    report = Report(
        f"availableSlots, cache hit ({hit_keys} warm doctor-days)",
        Target(p99_ms=10.0),
        [("ok", OK)],
    )
    pairs = harness.fixture.doctor_days(harness.rng)[:hit_keys]
    tokens = harness.browsing_tokens()
    warm = [harness.slots_request(doctor, day, tokens[0]) for doctor, day in pairs]

    async def prepare(needed: int) -> tuple[list[Request], Classify]:
        requests = [
            harness.slots_request(
                *pairs[harness.rng.randrange(len(pairs))], tokens[i % len(tokens)]
            )
            for i in range(needed)
        ]
        await harness.redis.flushdb()
        await limited([harness.expect_ok(request) for request in warm])
        return requests, slots_classify

    await harness.run_rows(report, "hit", harness.options.hit_loads, prepare)
    cached = len(await harness.redis.keys("slots:day:*"))
    report.notes.append(
        f"Each row starts with {hit_keys} doctor-days computed and cached "
        f"(untimed); {cached} were cached after the last row, so every timed request hit."
    )
    return report


async def book(harness: Harness, bookings: Bookings) -> Report:
    report = Report(
        "bookAppointment (a distinct free slot and a distinct patient each)",
        Target(p99_ms=50.0, min_rps=300.0),
        [("booked", OK), (SLOT_UNAVAILABLE, SLOT_UNAVAILABLE)],
    )
    options = harness.options
    span = options.warmup_s + options.duration_s
    await harness.redis.flushdb()
    # Collected up front for every row's first attempt; a re-run collects more.
    await bookings.collect_ahead(sum(load.requests_needed(span) for load in options.book_loads))

    async def prepare(count: int) -> tuple[list[Request], Classify]:
        chosen = await bookings.free_slots(count)
        await harness.redis.flushdb()
        await bookings.look_at_days(chosen)
        return bookings.requests(chosen)

    await harness.run_rows(report, "book", options.book_loads, prepare)
    report.notes += [
        "Free slots (available, starting 2 h or more from now) were collected from "
        "availableSlots before each row (untimed), shuffled across doctors and days. After "
        "Redis is flushed, each of their days is asked for once more (untimed), as a "
        "patient looks at the day before booking; bookings then make it stale for each other.",
        "Each booking sends an idempotency key, as a client that retries should.",
    ]
    return report
