"""A worker told to stop (SIGTERM, as a deploy does) takes no new job and lets the jobs
under way finish: an SMS being sent is sent once and recorded SENT, not cancelled and
sent again once its claim lapses."""

import asyncio
import contextlib
import signal
from pathlib import Path

import httpx
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from devtools.embedded.process import free_port
from services.settings import Settings
from tests.support.notifications import notification_rows, patient_with_phone
from tests.support.processes import running, until_answers
from tests.support.providers import FakeSendGrid, FakeTwilio, provider_environment
from tests.support.scheduling import book_via_api, local, make_monday_world
from tests.support.worker import until, with_providers
from workers.settings import build_worker
from workers.stopping import close_after_jobs

NY = "America/New_York"


async def _sent_once(
    twilio: FakeTwilio, sendgrid: FakeSendGrid, sessions: async_sessionmaker[AsyncSession]
) -> None:
    """The confirmation went out once by SMS and once by e-mail, and is recorded SENT."""
    assert (twilio.attempts, len(twilio.messages)) == (1, 1)
    assert (sendgrid.attempts, len(sendgrid.messages)) == (1, 1)
    rows = await notification_rows(sessions)
    assert sorted(row for row in rows if row[0] == "CONFIRMATION") == [
        ("CONFIRMATION", "EMAIL", "SENT", 1),
        ("CONFIRMATION", "SMS", "SENT", 1),
    ]


async def test_a_send_under_way_finishes_when_the_worker_is_told_to_stop(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    twilio: FakeTwilio, sendgrid: FakeSendGrid, tmp_path: Path,
) -> None:  # fmt: skip
    clinic, doctor, monday = await make_monday_world(sessions)
    patient = await patient_with_phone(sessions, settings)
    twilio.answer_delay = sendgrid.answer_delay = 2.0  # each send is under way for 2 s
    await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), patient)
    assert settings.database_url is not None
    assert settings.redis_url is not None
    env = {
        "DATABASE_URL": settings.database_url,
        "REDIS_URL": settings.redis_url,
        **provider_environment(twilio, sendgrid),
    }
    log, metrics_port = tmp_path / "worker.log", free_port()

    async def both_under_way() -> bool:
        return (twilio.attempts, sendgrid.attempts) == (1, 1)

    async with running(["worker", "--metrics-port", str(metrics_port)], env, log) as worker:
        await until_answers(f"http://127.0.0.1:{metrics_port}/metrics", worker, log)
        await until(both_under_way)
        worker.send_signal(signal.SIGTERM)
        exit_code = await asyncio.to_thread(worker.wait, 30)

    assert exit_code == 0, log.read_text()
    await _sent_once(twilio, sendgrid, sessions)


async def test_a_worker_run_inside_another_process_finishes_its_sends_before_closing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    twilio: FakeTwilio, sendgrid: FakeSendGrid,
) -> None:  # fmt: skip
    """As `medappt dev` stops its worker (workers/stopping.py). arq's close() alone
    cancels both sends midway."""
    clinic, doctor, monday = await make_monday_world(sessions)
    patient = await patient_with_phone(sessions, settings)
    twilio.answer_delay = sendgrid.answer_delay = 2.0
    await book_via_api(client, clinic, doctor, local(monday, 9, 0, NY), patient)
    worker = build_worker(
        with_providers(settings, twilio, sendgrid), handle_signals=False, poll_delay=0.02
    )
    run = asyncio.create_task(worker.async_run())

    async def both_under_way() -> bool:
        return (twilio.attempts, sendgrid.attempts) == (1, 1)

    try:
        await until(both_under_way)
        await close_after_jobs([worker])
    finally:
        run.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await run

    await _sent_once(twilio, sendgrid, sessions)
