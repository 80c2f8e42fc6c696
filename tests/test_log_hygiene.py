"""Nothing a patient sends reaches a log line, at any level: not when it is refused, not
when PostgreSQL refuses it, and not when the worker sends their messages."""

import contextlib
import json
import logging
import secrets
import time
from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import text
from sqlalchemy.exc import DBAPIError, IntegrityError
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from schema import input_limits
from services.json_logs import JsonFormatter
from services.logs import LOG_FORMAT, PrivateFormatter, describe_exception, log_config
from services.settings import Settings
from tests.support.scheduling import local, make_monday_world, signed_in
from tests.support.worker import run_worker

NY = "America/New_York"
SENTINEL = f"Zq-sentinel-{secrets.token_hex(6)}"
PHONE = f"+1555{secrets.randbelow(10**7):07d}"
BIRTHDAY = "1901-02-03"
# Lowercased, as some of them are stored (e-mail domains) or compared.
SECRETS = (SENTINEL.lower(), PHONE, BIRTHDAY)


class _Lines(logging.Handler):
    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.lines: list[str] = []

    def emit(self, record: logging.LogRecord) -> None:
        self.lines.append(self.format(record))


@contextlib.contextmanager
def server_log(formatter: logging.Formatter | None = None) -> Iterator[list[str]]:
    """Every line this process logs (the API served here, and the worker run here), at
    DEBUG, formatted and with logger levels as `medappt serve` and `worker` set them."""
    handler = _Lines()
    handler.setFormatter(formatter or PrivateFormatter(LOG_FORMAT))
    root = logging.getLogger()
    loggers = log_config()["loggers"]
    configured = {name: logging.getLogger(name) for name in loggers}
    saved = {name: (lg.level, lg.propagate) for name, lg in {"": root, **configured}.items()}
    for name, logger in configured.items():
        settings = loggers[name]
        # uvicorn's own loggers at DEBUG too; the libraries that log rows stay held back.
        logger.setLevel(settings.get("level", logging.DEBUG))
        logger.propagate = settings.get("propagate", logger.propagate)
    root.setLevel(logging.DEBUG)
    root.addHandler(handler)
    try:
        yield handler.lines
    finally:
        root.removeHandler(handler)
        for name, (level, propagate) in saved.items():
            logger = root if name == "" else configured[name]
            logger.setLevel(level)
            logger.propagate = propagate


def leaks(lines: list[str]) -> list[str]:
    return [line for line in lines if any(secret in line.lower() for secret in SECRETS)]


async def _post(client: httpx.AsyncClient, query: str, variables: dict[str, object],
                token: str | None = None) -> dict[str, object]:  # fmt: skip
    # ASCII escapes, so that an unpaired surrogate can be sent at all.
    response = await client.post(
        "/graphql",
        content=json.dumps({"query": query, "variables": variables}),
        headers={"Content-Type": "application/json"}
        | ({"Authorization": f"Bearer {token}"} if token else {}),
    )
    body: dict[str, object] = response.json()
    return body


def _codes(body: dict[str, object]) -> list[str]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    return [error["extensions"]["code"] for error in errors]


REGISTER = (
    "mutation R($input: RegisterPatientInput!) { registerPatient(input: $input) { accessToken } }"
)
CLINIC = "mutation C($input: CreateClinicInput!) { createClinic(input: $input) { id } }"
DOCTOR = "mutation D($input: CreateDoctorInput!) { createDoctor(input: $input) { id } }"
BOOK = "mutation B($input: BookAppointmentInput!) { bookAppointment(input: $input) { id } }"
UPLOAD = (
    "mutation U($input: RecordUploadInput!) { requestRecordUpload(input: $input) { uploadUrl } }"
)
LOGIN = "mutation L($email: String!, $password: String!) { login(email: $email, password: $password) { accessToken } }"
DOCTORS = "query S($specialty: String) { doctors(specialty: $specialty) { edges { cursor } } }"
SLOTS = "query A($doctorId: ID!, $date: Date!) { availableSlots(doctorId: $doctorId, date: $date) { available } }"


async def _send_bad_inputs(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> list[list[str]]:
    """Each failure of issue 11, every value carrying the sentinel; the codes answered."""
    clinic, doctor, monday = await make_monday_world(sessions)
    admin = await signed_in(sessions, settings, Role.ADMIN)
    patient = await signed_in(sessions, settings, Role.PATIENT)
    person = {"email": f"{SENTINEL}@example.test", "password": f"{SENTINEL}-password",
              "name": f"{SENTINEL} Doe", "dateOfBirth": BIRTHDAY, "phone": PHONE}  # fmt: skip
    booking = {"doctorId": str(doctor.id), "clinicId": str(clinic.id),
               "startsAt": local(monday, 10, 0, NY).isoformat()}  # fmt: skip
    upload = {"patientId": str(patient.profile_id), "recordType": "LAB_REPORT", "title": SENTINEL,
              "fileName": "panel.pdf", "contentType": "application/pdf", "sizeBytes": 10}  # fmt: skip
    new_clinic = {"name": SENTINEL, "address": SENTINEL, "timezone": "Europe/Berlin"}
    new_doctor = {**person, "specialty": SENTINEL, "clinicIds": [str(clinic.id)]}
    del new_doctor["dateOfBirth"], new_doctor["phone"]
    requests: list[tuple[str, dict[str, object], str | None]] = [
        (REGISTER, {"input": {**person, "name": SENTINEL * 20}}, None),
        (REGISTER, {"input": {**person, "name": f"{SENTINEL}\x00"}}, None),
        (REGISTER, {"input": {**person, "name": f"{SENTINEL}\ud800"}}, None),
        (REGISTER, {"input": {**person, "email": f"<{SENTINEL}>@x.example"}}, None),
        (REGISTER, {"input": {**person, "phone": f"{PHONE}0000000000"}}, None),
        (REGISTER, {"input": {**person, "dateOfBirth": "2026-02-30"}}, None),
        (LOGIN, {"email": f"{SENTINEL}\x00@example.test", "password": SENTINEL}, None),
        (DOCTORS, {"specialty": f"{SENTINEL}\x00"}, None),
        (CLINIC, {"input": {**new_clinic, "name": SENTINEL * 20}}, admin.token),
        (CLINIC, {"input": {**new_clinic, "name": f"{SENTINEL}\x00"}}, admin.token),
        (CLINIC, {"input": {**new_clinic, "address": f"{SENTINEL}\ud800" * 30}}, admin.token),
        (CLINIC, {"input": {**new_clinic, "timezone": "localtime"}}, admin.token),
        (DOCTOR, {"input": {**new_doctor, "specialty": SENTINEL * 10}}, admin.token),
        (BOOK, {"input": {**booking, "reason": f"{SENTINEL}\x00"}}, patient.token),
        (BOOK, {"input": {**booking, "idempotencyKey": SENTINEL * 10}}, patient.token),
        (UPLOAD, {"input": {**upload, "title": f"{SENTINEL}\x00"}}, patient.token),
        (UPLOAD, {"input": {**upload, "patientId": "0193a000-0000-7000-8000-000000000000"}}, admin.token),
        (SLOTS, {"doctorId": str(doctor.id), "date": "9999-12-31"}, None),
    ]  # fmt: skip
    return [_codes(await _post(client, *request)) for request in requests]


async def test_refused_inputs_leave_no_trace(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    with server_log() as lines:
        codes = await _send_bad_inputs(client, sessions, settings)

    assert codes == [["BAD_USER_INPUT"]] * 16 + [["NOT_FOUND"], ["BAD_USER_INPUT"]]
    assert lines, "the server logs nothing at DEBUG: the capture is broken"
    assert leaks(lines) == []


async def test_json_access_lines_name_each_request_and_nothing_it_carried(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    with server_log(JsonFormatter()) as lines:
        codes = await _send_bad_inputs(client, sessions, settings)

    records = [json.loads(line) for line in lines]  # every line is one JSON object
    access = [record for record in records if record["logger"] == "medappt.access"]
    assert [record["code"] for record in access] == [first for first, *_ in codes]
    assert [record["operation"] for record in access] == [*"RRRRRRLSCCCCDBBUUA"]
    assert {(record["method"], record["path"], record["status"]) for record in access} == {
        ("POST", "/graphql", 200)
    }
    # The callers with a token are named by their user id; the others by null.
    assert [record["user_id"] is not None for record in access] == [False] * 8 + [True] * 9 + [
        False
    ]
    assert all(len(record["request_id"]) == 32 for record in access)
    assert len({record["request_id"] for record in access}) == len(access)
    assert all(record["duration_ms"] > 0 for record in access)
    assert leaks(lines) == []


async def test_values_refused_by_postgresql_leave_no_trace(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:  # fmt: skip
    """As if the limits were forgotten: PostgreSQL and asyncpg refuse the values, and
    their errors (asyncpg quotes an argument it cannot encode) are logged unexpected."""
    for limit in (input_limits.Text, input_limits.Email, input_limits.Phone,
                  input_limits.TimeZone, input_limits.NewPassword):  # fmt: skip
        monkeypatch.setattr(limit, "problem", lambda self, value: None)

    with server_log() as lines:
        codes = await _send_bad_inputs(client, sessions, settings)

    unexpected = [line for line in lines if "unexpected error at" in line]
    assert codes.count(["INTERNAL_SERVER_ERROR"]) == len(unexpected) >= 6
    assert leaks(lines) == []


async def test_the_worker_leaves_no_trace(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    clinic, doctor, monday = await make_monday_world(sessions)
    person = {"email": f"{SENTINEL}@example.test", "password": f"{SENTINEL}-password",
              "name": f"{SENTINEL} Doe", "dateOfBirth": BIRTHDAY, "phone": PHONE}  # fmt: skip

    with server_log() as lines:
        registered = await _post(client, REGISTER, {"input": person})
        token = registered["data"]["registerPatient"]["accessToken"]  # type: ignore[index]
        booking = {"doctorId": str(doctor.id), "clinicId": str(clinic.id), "reason": SENTINEL,
                   "startsAt": local(monday, 10, 0, NY).isoformat(), "idempotencyKey": SENTINEL}  # fmt: skip
        booked = await _post(client, BOOK, {"input": booking}, token)
        # Unconfigured providers: the log channel stands in for SMS and e-mail.
        await run_worker(settings, sessions)

    assert "errors" not in booked
    # The worker did send to this patient (and logged it, as far as it does).
    assert any("not configured; not sending" in line for line in lines)
    assert leaks(lines) == []


async def test_database_errors_are_described_without_the_values_in_them(
    sessions: async_sessionmaker[AsyncSession],
) -> None:
    insert = text("INSERT INTO seen VALUES (:email)")
    async with sessions() as session:
        await session.execute(text("CREATE TEMPORARY TABLE seen (email text UNIQUE)"))
        with pytest.raises(DBAPIError) as unencodable:
            await session.execute(insert, {"email": f"{SENTINEL}\ud800"})
        await session.rollback()
        await session.execute(text("CREATE TEMPORARY TABLE seen (email text UNIQUE)"))
        await session.execute(insert, {"email": SENTINEL})
        with pytest.raises(IntegrityError) as duplicate:
            await session.execute(insert, {"email": SENTINEL})
        await session.rollback()
    # asyncpg quotes an argument it cannot encode; PostgreSQL's DETAIL, a duplicate key.
    assert SENTINEL in str(unencodable.value)
    assert SENTINEL in duplicate.value.orig.__cause__.detail  # type: ignore[union-attr]

    described = [describe_exception(unencodable.value), describe_exception(duplicate.value)]

    assert [SENTINEL in description for description in described] == [False, False]
    assert [description.splitlines()[-1] for description in described] == [
        "sqlalchemy.exc.DBAPIError",
        "sqlalchemy.exc.IntegrityError",
    ]
    assert (
        "asyncpg.exceptions.UniqueViolationError (sqlstate 23505, constraint_name seen_email_key)"
        in described[1]
    )


def _record(args: object, **fields: object) -> logging.LogRecord:
    """A record of 2026-01-02 03:04:05.678 UTC, logged at INFO by medappt.access."""
    return logging.makeLogRecord(
        {"name": "medappt.access", "levelno": logging.INFO, "levelname": "INFO",
         "msg": "%s %s", "args": args, "created": 1767323045.678, "msecs": 678.0, **fields}
    )  # fmt: skip


def _utc_formatter() -> PrivateFormatter:
    formatter = PrivateFormatter(LOG_FORMAT)
    formatter.converter = time.gmtime
    return formatter


def test_a_record_without_exceptions_is_formatted_as_it_is() -> None:
    assert _utc_formatter().format(_record(("POST", "/graphql"))) == (
        "2026-01-02 03:04:05,678 INFO medappt.access: POST /graphql"
    )


def test_exceptions_in_a_record_are_described_without_their_messages() -> None:
    try:
        raise ValueError(SENTINEL)
    except ValueError as error:
        raised = error
    formatter = _utc_formatter()
    # Another handler's formatter may have quoted the traceback in exc_text already.
    quoted = _record(("job failed,", "retrying"), exc_text=f"ValueError: {SENTINEL}")
    as_argument = _record(("job failed,", raised))
    as_mapping_value = _record({"error": raised}, msg="job failed, %(error)s")
    attached = _record(("job failed,", "retrying"), exc_info=(ValueError, raised, None))

    lines = [formatter.format(record) for record in (quoted, as_argument, as_mapping_value)]
    traceback_lines = formatter.format(attached).splitlines()

    assert lines == [
        "2026-01-02 03:04:05,678 INFO medappt.access: job failed, retrying",
        "2026-01-02 03:04:05,678 INFO medappt.access: job failed, builtins.ValueError",
        "2026-01-02 03:04:05,678 INFO medappt.access: job failed, builtins.ValueError",
    ]
    assert traceback_lines[0] == "2026-01-02 03:04:05,678 INFO medappt.access: job failed, retrying"
    assert traceback_lines[1] == "Traceback (most recent call last):"
    assert traceback_lines[-1] == "builtins.ValueError"
    assert leaks(traceback_lines) == []
    # The records themselves are left as they were, for other handlers.
    assert (quoted.exc_text, as_argument.args, attached.exc_text) == (
        f"ValueError: {SENTINEL}",
        ("job failed,", raised),
        None,
    )
