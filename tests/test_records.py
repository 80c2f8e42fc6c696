"""Medical records: uploads through S3, one query for everything, constant SQL."""

import json
import uuid
from datetime import UTC, datetime, timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import Insert, Select, event, func, select
from sqlalchemy.engine import Engine
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from sqlalchemy.sql.base import Generative

from db.enums import AppointmentStatus, RecordStatus, RecordType, Role
from db.models import AuditEntry, Doctor, MedicalRecord, Patient
from domain.records import staging_key
from services.settings import Settings
from services.storage import s3_client
from tests.support.api import error_codes, graphql
from tests.support.factories import add_clinic, add_doctor, add_patient, appointment
from tests.support.scheduling import Signed, signed_in
from tests.support.statements import counting_round_trips, counting_statements

REQUEST = """mutation R($input: RecordUploadInput!) { requestRecordUpload(input: $input) {
  record { id } uploadUrl uploadHeaders expiresAt } }"""
CONFIRM = """mutation C($id: ID!) { confirmRecordUpload(recordId: $id) {
  id title recordType contentType sizeBytes doctor { name } doctorName documentUrl } }"""
RECORDS = """query P($id: ID!, $first: Int) { patient(id: $id) { records(first: $first) {
  edges { node { id title doctor { name } documentUrl } } pageInfo { hasNextPage } } } }"""
PDF = b"%PDF-1.4\n% a lab report\n%%EOF\n"


async def _listed(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        return (
            await session.scalar(
                select(func.count())
                .select_from(MedicalRecord)
                .where(MedicalRecord.status == RecordStatus.AVAILABLE)
            )
            or 0
        )


def _upload(patient_id: object, **change: object) -> dict[str, object]:
    return {"input": {"patientId": str(patient_id), "recordType": "LAB_REPORT", "title": "Blood panel",
                      "fileName": "blood panel.pdf", "contentType": "application/pdf",
                      "sizeBytes": len(PDF), **change}}  # fmt: skip


async def test_upload_confirm_and_download_the_same_bytes(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await signed_in(sessions, settings, Role.PATIENT)

    requested = await graphql(client, REQUEST, _upload(pat.profile_id), token=pat.token)
    ticket = requested["data"]["requestRecordUpload"]
    async with httpx.AsyncClient() as s3:
        put = await s3.put(ticket["uploadUrl"], content=PDF, headers=ticket["uploadHeaders"])
    confirmed = await graphql(client, CONFIRM, {"id": ticket["record"]["id"]}, token=pat.token)
    record = confirmed["data"]["confirmRecordUpload"]
    async with httpx.AsyncClient() as browser:
        download = await browser.get(record["documentUrl"])

    assert put.status_code == 200
    assert ticket["uploadHeaders"] == {"Content-Type": "application/pdf"}
    expires = datetime.fromisoformat(ticket["expiresAt"])
    assert timedelta(minutes=14) < expires - datetime.now(UTC) <= timedelta(minutes=15)
    assert {k: record[k] for k in ("title", "recordType", "contentType", "sizeBytes", "doctor", "doctorName")} == {
        "title": "Blood panel", "recordType": "LAB_REPORT", "contentType": "application/pdf",
        "sizeBytes": len(PDF), "doctor": None, "doctorName": None,
    }  # fmt: skip
    assert download.status_code == 200
    assert download.content == PDF
    assert download.headers["content-disposition"] == (
        "attachment; filename=\"blood panel.pdf\"; filename*=UTF-8''blood%20panel.pdf"
    )
    assert await _listed(sessions) == 1


@pytest.mark.parametrize(
    ("selection", "linked"),
    [
        ("{ id documentUrl } }", True),
        ("{ id ...Link } } fragment Link on MedicalRecord { documentUrl }", True),
        ("{ id title } }", False),
    ],
)
async def test_confirming_issues_a_link_when_asked_and_only_then(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    selection: str,
    linked: bool,
    settings: Settings,
) -> None:
    pat = await signed_in(sessions, settings, Role.PATIENT)
    requested = await graphql(client, REQUEST, _upload(pat.profile_id), token=pat.token)
    ticket = requested["data"]["requestRecordUpload"]
    await _put(ticket["uploadUrl"], PDF, ticket["uploadHeaders"])
    mutation = "mutation C($id: ID!) { confirmRecordUpload(recordId: $id) " + selection

    body = await graphql(client, mutation, {"id": ticket["record"]["id"]}, token=pat.token)

    assert "errors" not in body, body
    record = body["data"]["confirmRecordUpload"]
    assert record["id"] == ticket["record"]["id"]
    assert ("documentUrl" in record) is linked
    if linked:
        async with httpx.AsyncClient() as browser:
            assert (await browser.get(record["documentUrl"])).content == PDF
    async with sessions() as session:
        issued = await session.scalars(
            select(AuditEntry.resource_id).where(AuditEntry.action == "record.document_url.issued")
        )
        assert list(issued) == ([ticket["record"]["id"]] if linked else [])


async def _put(url: str, body: bytes, headers: dict[str, str]) -> None:
    async with httpx.AsyncClient() as s3:
        assert (await s3.put(url, content=body, headers=headers)).status_code == 200


@pytest.mark.parametrize(
    ("declared", "uploaded_body", "uploaded_type", "message"),
    [
        (
            {},
            PDF + b"extra",
            "application/pdf",
            f"The uploaded document has {len(PDF) + 5} bytes, not the declared {len(PDF)}.",
        ),
        (
            {},
            PDF,
            "image/png",
            "The uploaded document is 'image/png', not the declared 'application/pdf'.",
        ),
        ({}, None, None, "No document has been uploaded for this record yet."),
    ],
)
async def test_confirm_refuses_what_does_not_match(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    declared: dict[str, object], uploaded_body: bytes | None, uploaded_type: str | None, message: str,
) -> None:  # fmt: skip
    pat = await signed_in(sessions, settings, Role.PATIENT)
    ticket = (await graphql(client, REQUEST, _upload(pat.profile_id, **declared), token=pat.token))[
        "data"
    ]["requestRecordUpload"]
    if uploaded_body is not None:
        assert uploaded_type is not None
        # The presigned URL is signed for application/pdf: store the odd object directly,
        # where the URL would have (the staging key).
        async with s3_client(settings) as s3:
            async with sessions() as session:
                key = await session.scalar(
                    select(MedicalRecord.s3_key).where(MedicalRecord.id == ticket["record"]["id"])
                )
            assert key is not None
            await s3.put_object(
                Bucket=settings.s3_bucket,
                Key=staging_key(key),
                Body=uploaded_body,
                ContentType=uploaded_type,
            )

    body = await graphql(client, CONFIRM, {"id": ticket["record"]["id"]}, token=pat.token)

    assert body["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]
    assert await _listed(sessions) == 0


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"contentType": "application/x-msdownload"},
            "`contentType` 'application/x-msdownload' is not allowed; use one of application/dicom, application/pdf, image/jpeg, image/png, text/plain.",
        ),
        ({"sizeBytes": 50 * 1024 * 1024 + 1}, "`sizeBytes` must be between 1 and 52428800."),
        ({"sizeBytes": 0}, "`sizeBytes` must be between 1 and 52428800."),
        ({"title": ""}, "input.title: must not be blank"),
    ],
)
async def test_bad_upload_requests_create_nothing(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    change: dict[str, object], message: str,
) -> None:  # fmt: skip
    pat = await signed_in(sessions, settings, Role.PATIENT)

    body = await graphql(client, REQUEST, _upload(pat.profile_id, **change), token=pat.token)

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MedicalRecord)) == 0


async def _patient_with_records(
    sessions: async_sessionmaker[AsyncSession], settings: Settings, count: int
) -> tuple[Signed, Doctor, Signed]:
    pat = await signed_in(sessions, settings, Role.PATIENT)
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        doctors = [await add_doctor(session, f"Dr {n}", clinics=(clinic,)) for n in range(3)]
        patient = await session.get_one(Patient, pat.profile_id)
        session.add(appointment(doctor=doctors[0], patient=patient, clinic=clinic,
                                starts_at=datetime(2025, 1, 6, 15, tzinfo=UTC), status=AppointmentStatus.COMPLETED))  # fmt: skip
        base = datetime(2026, 1, 1, tzinfo=UTC)
        for n in range(count):
            record_id = uuid.uuid4()
            session.add(MedicalRecord(
                id=record_id, patient_id=patient.id, doctor_id=doctors[n % 3].id,
                record_type=RecordType.LAB_REPORT, title=f"Report {n:03}", file_name=f"r{n}.pdf",
                content_type="application/pdf", size_bytes=100, s3_key=f"patients/{patient.id}/{record_id}/r{n}.pdf",
                status=RecordStatus.AVAILABLE, uploaded_at=base + timedelta(hours=n),
            ))  # fmt: skip
    doctor = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctors[0])
    return pat, doctors[0], doctor


@pytest.mark.parametrize("count", [1, 50, 100])
async def test_a_patient_with_every_record_costs_three_statements(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    count: int,
) -> None:
    pat, _, doctor = await _patient_with_records(sessions, settings, count)

    variables = {"id": str(pat.profile_id), "first": 100}
    # Once before: a connection the pool opens is set up with statements of its own.
    await graphql(client, RECORDS, variables, token=doctor.token)

    with counting_statements() as log, counting_round_trips() as trips:
        body = await graphql(client, RECORDS, variables, token=doctor.token)

    edges = body["data"]["patient"]["records"]["edges"]
    assert len(edges) == count
    assert edges[0]["node"]["title"] == f"Report {count - 1:03}"  # newest first
    assert {edge["node"]["doctor"]["name"] for edge in edges} == (
        {"Dr 0"} if count == 1 else {"Dr 0", "Dr 1", "Dr 2"}
    )
    assert all(
        edge["node"]["documentUrl"].startswith(settings.s3_endpoint_url or "") for edge in edges
    )
    # The patient, the records with their doctors, and the request's audit rows.
    assert log.count == 3
    # Reads and the audit INSERT each alone on the request's one connection: no BEGIN,
    # COMMIT, ROLLBACK or pre-ping around them.
    assert [sent.split()[0] for sent in trips.sent] == ["SELECT", "SELECT", "INSERT"]


async def test_links_are_reused_and_each_issue_is_audited(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat, _, _ = await _patient_with_records(sessions, settings, 2)
    variables = {"id": str(pat.profile_id), "first": 10}

    first = await graphql(client, RECORDS, variables, token=pat.token)
    second = await graphql(client, RECORDS, variables, token=pat.token)

    urls = [
        [e["node"]["documentUrl"] for e in body["data"]["patient"]["records"]["edges"]]
        for body in (first, second)
    ]
    assert urls[0] == urls[1]
    assert len(set(urls[0])) == 2
    async with sessions() as session:
        issued = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "record.document_url.issued")
        )
    assert issued == 4


async def test_strangers_get_forbidden_and_no_link(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat, _, _ = await _patient_with_records(sessions, settings, 3)
    other_patient = await signed_in(sessions, settings, Role.PATIENT, name="Max Roe")
    async with sessions.begin() as session:
        lone = await add_doctor(session, "Dr Lone", clinics=(await add_clinic(session, "Other"),))
    other_doctor = await signed_in(sessions, settings, Role.DOCTOR, doctor=lone)

    for stranger in (other_patient, other_doctor):
        body = await graphql(client, RECORDS, {"id": str(pat.profile_id)}, token=stranger.token)
        upload = await graphql(client, REQUEST, _upload(pat.profile_id), token=stranger.token)
        assert body == {"data": {"patient": None}, "errors": body["errors"]}
        assert error_codes(body) == error_codes(upload) == ["FORBIDDEN"]
        assert "http" not in str(body)
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MedicalRecord)) == 3
        issued = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "record.document_url.issued")
        )
    assert issued == 0


async def test_a_doctors_day_with_records_costs_at_most_five_statements(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    async with sessions.begin() as session:
        clinic = await add_clinic(session)
        doctor = await add_doctor(session, "Dr Day", clinics=(clinic,))
        start = datetime(2030, 1, 7, 14, tzinfo=UTC)  # 09:00 in New York
        for n in range(20):
            patient = await add_patient(session, f"Patient {n:02}")
            session.add(
                appointment(
                    doctor=doctor,
                    patient=patient,
                    clinic=clinic,
                    starts_at=start + timedelta(minutes=20 * n),
                    minutes=20,
                )
            )
            for k in range(7):
                record_id = uuid.uuid4()
                session.add(MedicalRecord(
                    id=record_id, patient_id=patient.id, doctor_id=doctor.id, record_type=RecordType.PRESCRIPTION,
                    title=f"Rx {k}", file_name="rx.pdf", content_type="application/pdf", size_bytes=10,
                    s3_key=f"patients/{patient.id}/{record_id}/rx.pdf", status=RecordStatus.AVAILABLE,
                    uploaded_at=start - timedelta(days=k),
                ))  # fmt: skip
    doc = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    query = """query S($doctorId: ID!) { doctorSchedule(doctorId: $doctorId, date: "2030-01-07") {
        startsAt patient { name records(first: 5) { edges { node { title doctor { name } documentUrl } } } } } }"""

    # The process's clinic directory learns a new clinic once; count what repeats.
    await graphql(client, query, {"doctorId": str(doctor.id)}, token=doc.token)

    with counting_statements() as log:
        body = await graphql(client, query, {"doctorId": str(doctor.id)}, token=doc.token)

    schedule = body["data"]["doctorSchedule"]
    assert len(schedule) == 20
    assert [len(entry["patient"]["records"]["edges"]) for entry in schedule] == [5] * 20
    assert schedule[0]["patient"]["records"]["edges"][0]["node"]["title"] == "Rx 0"
    # The day, its patients, their records with doctors, and the audit rows.
    assert log.count == 4


async def test_a_page_of_records_builds_no_sql_statement(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The patient, records and audit statements are built once, at import, with bound
    parameters: building one (select(), where(), join()...) cost more CPU than running it."""
    pat, _, doctor = await _patient_with_records(sessions, settings, 3)
    variables = {"id": str(pat.profile_id), "first": 10}
    await graphql(client, RECORDS, variables, token=doctor.token)
    built: list[str] = []

    def counting(cls: type, method: str) -> None:
        original = getattr(cls, method)

        def wrapper(self: object, *args: object, **kwargs: object) -> object:
            built.append(f"{type(self).__name__}.{method}")
            return original(self, *args, **kwargs)

        monkeypatch.setattr(cls, method, wrapper)

    counting(Select, "__init__")
    counting(Insert, "__init__")
    counting(Generative, "_generate")

    body = await graphql(client, RECORDS, variables, token=doctor.token)

    assert len(body["data"]["patient"]["records"]["edges"]) == 3
    assert built == []


async def test_a_pages_audit_rows_go_in_one_execution(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    """52 rows (the patient, the page, 50 links) as one JSON array: one statement
    executed once, not an executemany of 52 INSERTs."""
    pat, _, doctor = await _patient_with_records(sessions, settings, 50)
    variables = {"id": str(pat.profile_id), "first": 50}
    inserts: list[tuple[bool, Any]] = []

    def record(
        _: object, __: object, statement: str, parameters: Any, ___: object, many: bool
    ) -> None:
        if statement.lstrip().upper().startswith("INSERT INTO AUDIT_LOG"):
            inserts.append((many, parameters))

    event.listen(Engine, "before_cursor_execute", record)
    try:
        await graphql(client, RECORDS, variables, token=doctor.token)
    finally:
        event.remove(Engine, "before_cursor_execute", record)

    assert len(inserts) == 1
    many, parameters = inserts[0]
    assert not many
    ip, request_id, events = parameters
    assert (ip, len(request_id)) == ("127.0.0.1", 32)
    assert [len(row) for row in json.loads(events)] == [7] * 52
    async with sessions() as session:
        actions = (await session.scalars(select(AuditEntry.action).order_by(AuditEntry.id))).all()
    assert actions[-52:] == [
        "patient.read",
        "patient.records.read",
        *["record.document_url.issued"] * 50,
    ]


@pytest.mark.parametrize(
    ("selection", "linked"),
    [
        ("node { ...R } } } } } fragment R on MedicalRecord { documentUrl }", True),
        ("node { ... on MedicalRecord { documentUrl } } } } } }", True),
        ("node { title } } } } }", False),
    ],
)
async def test_links_are_issued_when_a_fragment_asks_and_only_then(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    selection: str,
    linked: bool,
) -> None:
    pat, _, _ = await _patient_with_records(sessions, settings, 2)
    query = "query P($id: ID!) { patient(id: $id) { records { edges { " + selection

    body = await graphql(client, query, {"id": str(pat.profile_id)}, token=pat.token)

    assert "errors" not in body, body
    nodes = [edge["node"] for edge in body["data"]["patient"]["records"]["edges"]]
    assert len(nodes) == 2
    assert all(("documentUrl" in node) is linked for node in nodes)
    async with sessions() as session:
        issued = await session.scalar(
            select(func.count())
            .select_from(AuditEntry)
            .where(AuditEntry.action == "record.document_url.issued")
        )
    assert issued == (2 if linked else 0)
