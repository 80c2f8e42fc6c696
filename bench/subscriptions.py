"""Live slots: what 1,000 open `slotsChanged` subscriptions cost one API process, and how
long a committed booking takes to reach them.

Run with ``python -m bench.subscriptions`` (about a minute). It starts an embedded
PostgreSQL and Redis, migrates, adds ``--days`` doctors at one clinic (each working the
weekday of the watched date, 08:00 to 18:00 in 15-minute slots), and starts one
``medappt serve --workers 1``. Then:

- ``--subscriptions`` WebSockets (graphql-transport-ws), one subscription each, spread
  evenly over the doctors' days; the process's RSS before the first and after the last
  has had its first list gives the memory per connection;
- bookings at ``--rate`` a second for ``--duration`` s, open loop, made by a process of
  their own the way another API process makes them (domain ``book``, commit, then the
  slot cache's ``invalidate``, which restamps and PUBLISHes in one script): for every
  subscriber of the day, the delay from the commit returning to the first message that
  shows the slot taken (``time.time`` in both processes: one clock, one machine). The
  booking process also reports how long its commits took to get the PUBLISH's answer
  (one round trip, plus however late its own event loop runs).

The clients, the booking process, the server, PostgreSQL and Redis share the machine's
two cores (and, here, other people's work: the load average is printed): the delays
include the wait for a core.
"""

import argparse
import asyncio
import contextlib
import json
import multiprocessing
import os
import tempfile
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from dataclasses import dataclass, field
from datetime import date, datetime, timedelta
from datetime import time as clock_time
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

import uvloop
from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from websockets.asyncio.client import ClientConnection, connect
from websockets.typing import Subprotocol

from bench.api_server import ApiServer, running_api
from bench.cpu import process_seconds
from db.engine import create_engine, session_factory
from db.enums import Role
from db.migrate import upgrade
from devtools.embedded import EmbeddedStack
from domain.booking import BookingRequest, book
from domain.caller import Caller
from domain.clinics import create_clinic
from domain.doctors import create_doctor
from domain.schedules import add_template
from domain.users import create_user
from services.clinic_directory import ClinicDirectory
from services.slot_cache import SlotCache

SUBSCRIPTION = """subscription Live($doctorId: ID!, $date: Date!) {
  slotsChanged(doctorId: $doctorId, date: $date) { startsAt available }
}"""
ZONE = "America/New_York"
OPENING, CLOSING, SLOT_MINUTES = clock_time(8), clock_time(18), 15
PASSWORD = "bench-password-not-common"


@dataclass(frozen=True, slots=True)
class World:
    clinic_id: uuid.UUID
    doctor_ids: list[uuid.UUID]
    # One patient per doctor: a patient's appointments may not overlap.
    patients: list[Caller]
    day: date


# A booked slot: its doctor and start.
SlotKey = tuple[uuid.UUID, datetime]


@dataclass(slots=True)
class Deliveries:
    """When (``time.time()``) each subscriber first saw each slot taken."""

    expected: int
    seen: list[tuple[SlotKey, float]] = field(default_factory=list)
    messages: int = 0
    all_seen: asyncio.Event = field(default_factory=asyncio.Event)

    def taken(self, key: SlotKey, at: float) -> None:
        self.seen.append((key, at))
        if len(self.seen) >= self.expected:
            self.all_seen.set()


@dataclass(frozen=True, slots=True)
class Booking:
    patient: Caller
    doctor_id: uuid.UUID
    starts: datetime


async def _seed(sessions: async_sessionmaker[AsyncSession], doctors: int) -> World:
    day = date.today() + timedelta(days=7)
    async with sessions.begin() as session:
        clinic = await create_clinic(session, name="Bench", address=None, timezone=ZONE)
        doctor_ids, patients = [], []
        for n in range(doctors):
            doctor = await create_doctor(
                session, email=f"doctor{n}@bench.test", password=PASSWORD, name=f"Dr. {n}",
                specialty="Bench", clinic_ids=[clinic.id],
            )  # fmt: skip
            await add_template(
                session, doctor_id=doctor.id, clinic_id=clinic.id, day_of_week=day.isoweekday(),
                start_time=OPENING, end_time=CLOSING, slot_minutes=SLOT_MINUTES,
            )  # fmt: skip
            doctor_ids.append(doctor.id)
            patient = await create_user(
                session, email=f"patient{n}@bench.test", password=PASSWORD, role=Role.PATIENT,
                name=f"Patient {n}",
            )  # fmt: skip
            assert patient.patient is not None
            patients.append(
                Caller(
                    user_id=patient.user.id,
                    role=Role.PATIENT,
                    patient_id=patient.patient.id,
                    doctor_id=None,
                    token_id="bench",
                    token_expires_at=datetime.max,
                    family_id=uuid.uuid4(),
                )
            )
    return World(clinic.id, doctor_ids, patients, day)


def _rss_bytes(pid: int) -> int:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) * 1024
    raise RuntimeError("no VmRSS")


def _token(server: ApiServer) -> str:
    token, _ = server.tokens.issue_access(
        user_id=uuid.uuid4(), role=Role.PATIENT, family_id=uuid.uuid4(), patient_id=uuid.uuid4()
    )
    return token


async def _subscribe(
    server: ApiServer, doctor_id: uuid.UUID, day: date, compression: str | None
) -> ClientConnection:
    url = server.url.replace("http://", "ws://") + "/graphql"
    protocols = [Subprotocol("graphql-transport-ws")]
    socket = await connect(url, subprotocols=protocols, compression=compression)
    await socket.send(
        json.dumps(
            {"type": "connection_init", "payload": {"Authorization": f"Bearer {_token(server)}"}}
        )
    )
    assert json.loads(await socket.recv())["type"] == "connection_ack"
    variables = {"doctorId": str(doctor_id), "date": day.isoformat()}
    await socket.send(
        json.dumps(
            {
                "type": "subscribe",
                "id": "1",
                "payload": {"query": SUBSCRIPTION, "variables": variables},
            }
        )
    )
    first = json.loads(await socket.recv())
    assert first["type"] == "next", first
    assert "errors" not in first["payload"], first
    return socket


async def _listen(socket: ClientConnection, doctor_id: uuid.UUID, deliveries: Deliveries) -> None:
    """Every slot is free when the run starts: each one seen taken was booked in it."""
    taken: set[str] = set()
    with contextlib.suppress(Exception):
        async for raw in socket:
            now = time.time()
            message: dict[str, Any] = json.loads(raw)
            if message["type"] != "next":
                continue
            deliveries.messages += 1
            for slot in message["payload"]["data"]["slotsChanged"]:
                if not slot["available"] and slot["startsAt"] not in taken:
                    taken.add(slot["startsAt"])
                    deliveries.taken((doctor_id, datetime.fromisoformat(slot["startsAt"])), now)


async def _book(
    sessions: async_sessionmaker[AsyncSession], cache: SlotCache, clinics: ClinicDirectory,
    clinic_id: uuid.UUID,
    booking: "Booking", *, commits: dict[SlotKey, float], published: list[float],
) -> None:  # fmt: skip
    request = BookingRequest(
        doctor_id=booking.doctor_id, clinic_id=clinic_id, starts_at=booking.starts
    )
    async with sessions.begin() as session:
        await book(session, booking.patient, request, days=cache, clinics=clinics)
    # Committed: the clock starts before the change is announced.
    committed = commits[booking.doctor_id, booking.starts] = time.time()
    await cache.invalidate([booking.doctor_id])
    published.append(time.time() - committed)


async def _book_at_rate(
    database_url: str, redis_url: str, clinic_id: uuid.UUID, bookings: list["Booking"],
    rate: float,
) -> "Booked":  # fmt: skip
    """Open loop: booking ``n`` starts at ``n / rate`` s, whatever the others do."""
    engine = create_engine(database_url, pool_size=20)
    redis = Redis.from_url(redis_url)
    sessions, cache = session_factory(engine), SlotCache(redis)
    clinics = ClinicDirectory(sessions)
    commits: dict[SlotKey, float] = {}
    published: list[float] = []
    cpu = time.process_time()
    try:
        began = time.monotonic()
        tasks = []
        for n, booking in enumerate(bookings):
            await asyncio.sleep(max(0.0, began + n / rate - time.monotonic()))
            tasks.append(
                asyncio.create_task(
                    _book(
                        sessions,
                        cache,
                        clinics,
                        clinic_id,
                        booking,
                        commits=commits,
                        published=published,
                    )
                )
            )
        await asyncio.gather(*tasks)
    finally:
        await redis.aclose()
        await engine.dispose()
    return Booked(commits, [seconds * 1000 for seconds in published], time.process_time() - cpu)


@dataclass(frozen=True, slots=True)
class Booked:
    # When each booking committed (time.time(): one clock for the machine's processes).
    commits: dict[SlotKey, float]
    # From the commit returning to the PUBLISH (with the restamp) answered.
    publish_ms: list[float]
    cpu_s: float


def _booking_process(
    database_url: str, redis_url: str, clinic_id: uuid.UUID, bookings: list["Booking"],
    rate: float,
) -> Booked:  # fmt: skip
    """In a process of its own, so that the clients' loop measures only deliveries."""
    return uvloop.run(_book_at_rate(database_url, redis_url, clinic_id, bookings, rate))


def _bookings(world: World, count: int) -> list[Booking]:
    """Round the doctors, each day filled from its first slot on."""
    days = len(world.doctor_ids)
    slots_per_day = (CLOSING.hour - OPENING.hour) * 60 // SLOT_MINUTES
    assert count <= slots_per_day * days, "more bookings than free slots"
    opening = datetime.combine(world.day, OPENING, ZoneInfo(ZONE))
    return [
        Booking(
            world.patients[n % days],
            world.doctor_ids[n % days],
            opening + timedelta(minutes=SLOT_MINUTES * (n // days)),
        )
        for n in range(count)
    ]


async def _open(
    server: ApiServer, world: World, subscriptions: int, compression: str | None
) -> list[tuple[ClientConnection, uuid.UUID]]:
    """``subscriptions`` sockets, round the doctors, 50 opening at a time."""
    doctors = [world.doctor_ids[n % len(world.doctor_ids)] for n in range(subscriptions)]
    sockets: list[tuple[ClientConnection, uuid.UUID]] = []
    for start in range(0, subscriptions, 50):
        batch = doctors[start : start + 50]
        opened = await asyncio.gather(
            *(_subscribe(server, doctor, world.day, compression) for doctor in batch)
        )
        sockets += zip(opened, batch, strict=True)
    return sockets


@dataclass(frozen=True, slots=True)
class Result:
    rss_before: int
    rss_after: int
    deliveries: Deliveries
    delays_ms: list[float]
    booked: Booked
    api_cpu_s: float
    bench_cpu_s: float


async def _measure(
    server: ApiServer, database_url: str, redis_url: str, world: World,
    args: argparse.Namespace,
) -> Result:  # fmt: skip
    compression = None if args.no_compression else "deflate"
    # One subscription opened and closed first: imports and first-use caches are not
    # counted per connection.
    warm = await _subscribe(server, world.doctor_ids[0], world.day, compression)
    await warm.close()
    before = _rss_bytes(server.pid)
    sockets = await _open(server, world, args.subscriptions, compression)
    await asyncio.sleep(1)  # the server's last sends and frees, before RSS is read
    after = _rss_bytes(server.pid)

    bookings = _bookings(world, int(args.rate * args.duration))
    deliveries = Deliveries(expected=len(bookings) * (args.subscriptions // args.days))
    listeners = [asyncio.create_task(_listen(s, d, deliveries)) for s, d in sockets]
    api_cpu, bench_cpu = process_seconds(server.pid), time.process_time()
    with ProcessPoolExecutor(1, mp_context=multiprocessing.get_context("spawn")) as pool:
        booked = await asyncio.wrap_future(
            pool.submit(
                _booking_process, database_url, redis_url, world.clinic_id, bookings, args.rate
            )
        )
    with contextlib.suppress(TimeoutError):
        async with asyncio.timeout(30):
            await deliveries.all_seen.wait()
    api_cpu, bench_cpu = process_seconds(server.pid) - api_cpu, time.process_time() - bench_cpu
    for listener in listeners:
        listener.cancel()
    await asyncio.gather(*(socket.close() for socket, _ in sockets))
    delays = [(at - booked.commits[key]) * 1000 for key, at in deliveries.seen]
    return Result(before, after, deliveries, delays, booked, api_cpu, bench_cpu)


def _percentile(values: list[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))]


def _report(result: Result, args: argparse.Namespace) -> None:
    delays, per_connection = result.delays_ms, args.subscriptions
    deflate = "off" if args.no_compression else "on"
    print(
        f"{args.subscriptions} subscriptions over {args.days} doctor-days "
        f"({args.subscriptions // args.days} each), {int(args.rate * args.duration)} bookings "
        f"at {args.rate:g}/s, permessage-deflate {deflate}"
    )
    print()
    print("| measure | value |")
    print("|---|---:|")
    rss = result.rss_before / 2**20, result.rss_after / 2**20
    print(f"| API RSS before / after | {rss[0]:.1f} MiB / {rss[1]:.1f} MiB |")
    delta = (result.rss_after - result.rss_before) / per_connection / 1024
    print(f"| memory per connection (RSS delta / {per_connection}) | {delta:.1f} KiB |")
    print(f"| deliveries seen / expected | {len(delays)} / {result.deliveries.expected} |")
    print(f"| messages received | {result.deliveries.messages} |")
    for label, fraction in (("p50", 0.5), ("p99", 0.99), ("max", 1.0)):
        print(f"| commit to delivery {label} | {_percentile(delays, fraction):.1f} ms |")
    publish = result.booked.publish_ms
    for label, fraction in (("p50", 0.5), ("p99", 0.99)):
        print(f"| commit to PUBLISH answered {label} | {_percentile(publish, fraction):.1f} ms |")
    print(f"| the booking process's CPU | {result.booked.cpu_s:.1f} s |")
    print(f"| API CPU during the bookings | {result.api_cpu_s:.1f} s over {args.duration:g} s |")
    print(f"| the clients' CPU | {result.bench_cpu_s:.1f} s |")
    print(f"| load average after (2 cores) | {os.getloadavg()[0]:.1f} |")


async def _run(args: argparse.Namespace, database_url: str, redis_url: str) -> None:
    engine = create_engine(database_url)
    try:
        world = await _seed(session_factory(engine), args.days)
        environment = {"MEDAPPT_MAX_SUBSCRIPTIONS_PER_USER": str(args.subscriptions)}
        with running_api(database_url, redis_url, extra_environment=environment) as server:
            result = await _measure(server, database_url, redis_url, world, args)
    finally:
        await engine.dispose()
    _report(result, args)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0] if __doc__ else None)
    parser.add_argument("--subscriptions", type=int, default=1000)
    parser.add_argument("--days", type=int, default=100, help="doctor-days watched")
    parser.add_argument("--rate", type=float, default=50.0, help="bookings a second")
    parser.add_argument("--duration", type=float, default=20.0, help="seconds of bookings")
    parser.add_argument(
        "--no-compression", action="store_true", help="clients do not offer permessage-deflate"
    )
    args = parser.parse_args()
    with (
        tempfile.TemporaryDirectory(prefix="medappt-subscriptions-") as data_dir,
        EmbeddedStack(Path(data_dir), postgres=True, redis=True, s3=False, durable=False) as stack,
    ):
        assert stack.database_url is not None
        assert stack.redis_url is not None
        upgrade(stack.database_url)
        # uvloop, as `medappt serve` runs.
        uvloop.run(_run(args, stack.database_url, stack.redis_url))


if __name__ == "__main__":
    main()
