"""Documents that cannot change: uploads land on a staging key, confirmation checks the
leading bytes and the declared SHA-256 and copies the object where no URL reaches."""

import base64
import hashlib
from typing import Any

import httpx
import pytest
from botocore.exceptions import ClientError
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import RecordStatus, Role
from db.models import MedicalRecord
from domain.records import staging_key
from services.settings import Settings
from services.storage import s3_client
from tests.support.api import graphql
from tests.support.scheduling import Signed, signed_in

REQUEST = """mutation R($input: RecordUploadInput!) { requestRecordUpload(input: $input) {
  record { id } uploadUrl uploadHeaders } }"""
CONFIRM = """mutation C($id: ID!) { confirmRecordUpload(recordId: $id) {
  id contentType sizeBytes sha256 documentUrl } }"""
RECORDS = (
    """query P($id: ID!) { patient(id: $id) { records { edges { node { documentUrl } } } } }"""
)
PDF = b"%PDF-1.4\n% a lab report\n%%EOF\n"
PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\x0dIHDR" + bytes(13)
JPEG = b"\xff\xd8\xff\xe0\x00\x10JFIF\x00" + bytes(20)
DICOM = bytes(128) + b"DICM" + b"\x02\x00\x00\x00UL"
TEXT = "Blood pressure 120/80, pulse 64. Überweisung folgt.\n".encode()
EXE = b"MZ\x90\x00\x03\x00\x00\x00" + bytes(22)


def _input(patient: Signed, body: bytes, content_type: str, **extra: Any) -> dict[str, Any]:
    return {"input": {"patientId": str(patient.profile_id), "recordType": "LAB_REPORT",
                      "title": "Scan", "fileName": "scan", "contentType": content_type,
                      "sizeBytes": len(body), **extra}}  # fmt: skip


async def _upload(
    client: httpx.AsyncClient, patient: Signed, body: bytes, content_type: str, **extra: Any
) -> tuple[str, dict[str, Any]]:
    """Ask for an upload and PUT ``body`` with the headers we were given: (record id, ticket)."""
    requested = await graphql(client, REQUEST, _input(patient, body, content_type, **extra),
                              token=patient.token)  # fmt: skip
    ticket = requested["data"]["requestRecordUpload"]
    async with httpx.AsyncClient() as s3:
        put = await s3.put(ticket["uploadUrl"], content=body, headers=ticket["uploadHeaders"])
    assert put.status_code == 200
    return ticket["record"]["id"], ticket


async def _download(url: str) -> bytes:
    async with httpx.AsyncClient() as browser:
        response = await browser.get(url)
    assert response.status_code == 200
    return response.content


async def _listed(sessions: async_sessionmaker[AsyncSession]) -> int:
    async with sessions() as session:
        count = await session.scalar(
            select(func.count())
            .select_from(MedicalRecord)
            .where(MedicalRecord.status == RecordStatus.AVAILABLE)
        )
    return count or 0


async def _exists(settings: Settings, key: str) -> bool:
    async with s3_client(settings) as s3:
        try:
            await s3.head_object(Bucket=settings.s3_bucket, Key=key)
        except ClientError:
            return False
    return True


async def _final_key(sessions: async_sessionmaker[AsyncSession], record_id: str) -> str:
    async with sessions() as session:
        key = await session.scalar(
            select(MedicalRecord.s3_key).where(MedicalRecord.id == record_id)
        )
    assert key is not None
    return key


async def test_a_put_after_confirmation_does_not_change_what_is_served(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await signed_in(sessions, settings, Role.PATIENT)
    record_id, ticket = await _upload(client, pat, PDF, "application/pdf")
    confirmed = (await graphql(client, CONFIRM, {"id": record_id}, token=pat.token))["data"]
    key = await _final_key(sessions, record_id)
    staging_gone = not await _exists(settings, staging_key(key))

    async with httpx.AsyncClient() as s3:
        evil = await s3.put(ticket["uploadUrl"], content=b"EVIL!", headers=ticket["uploadHeaders"])
    served = await _download(confirmed["confirmRecordUpload"]["documentUrl"])
    listed = await graphql(client, RECORDS, {"id": str(pat.profile_id)}, token=pat.token)
    [edge] = listed["data"]["patient"]["records"]["edges"]

    assert ticket["uploadUrl"].split("?")[0].endswith(staging_key(key).replace(" ", "%20"))
    assert staging_gone
    assert evil.status_code == 200  # the URL still writes, but only to the staging key
    assert served == PDF
    assert await _download(edge["node"]["documentUrl"]) == PDF


@pytest.mark.parametrize(
    ("body", "content_type", "message"),
    [
        (
            EXE,
            "application/pdf",
            "The uploaded document's first bytes are not those of application/pdf.",
        ),
        (
            b"%PDF1.4" + bytes(20),
            "application/pdf",
            "The uploaded document's first bytes are not those of application/pdf.",
        ),
        (JPEG, "image/png", "The uploaded document's first bytes are not those of image/png."),
        (PNG, "image/jpeg", "The uploaded document's first bytes are not those of image/jpeg."),
        (
            bytes(128) + b"DICX" + bytes(8),
            "application/dicom",
            "The uploaded document's first bytes are not those of application/dicom.",
        ),
        (b"line one\x00line two", "text/plain", "The uploaded text contains a NUL byte."),
        (b"caf\xe9 au lait", "text/plain", "The uploaded text is not valid UTF-8."),
    ],
    ids=[
        "exe-as-pdf",
        "pdf-without-dash",
        "jpeg-as-png",
        "png-as-jpeg",
        "not-dicom",
        "nul",
        "latin-1",
    ],
)
async def test_a_document_that_is_not_what_it_claims_is_refused_and_not_listed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    body: bytes, content_type: str, message: str,
) -> None:  # fmt: skip
    pat = await signed_in(sessions, settings, Role.PATIENT)
    record_id, _ = await _upload(client, pat, body, content_type)

    refused = await graphql(client, CONFIRM, {"id": record_id}, token=pat.token)

    assert refused["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in refused["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]
    assert await _listed(sessions) == 0
    key = await _final_key(sessions, record_id)
    assert not await _exists(settings, key)
    assert await _exists(settings, staging_key(key))  # kept: a corrected upload may follow


@pytest.mark.parametrize(
    ("body", "content_type"),
    [
        (PDF, "application/pdf"),
        (PNG, "image/png"),
        (JPEG, "image/jpeg"),
        (DICOM, "application/dicom"),
        (TEXT, "text/plain"),
    ],
    ids=["pdf", "png", "jpeg", "dicom", "text"],
)
async def test_each_allowed_type_is_accepted(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings,
    body: bytes, content_type: str,
) -> None:  # fmt: skip
    pat = await signed_in(sessions, settings, Role.PATIENT)
    record_id, _ = await _upload(client, pat, body, content_type)

    confirmed = await graphql(client, CONFIRM, {"id": record_id}, token=pat.token)

    record = confirmed["data"]["confirmRecordUpload"]
    assert (record["contentType"], record["sizeBytes"], record["sha256"]) == (
        content_type, len(body), None,
    )  # fmt: skip
    assert await _download(record["documentUrl"]) == body


async def test_a_declared_sha256_is_sent_to_s3_and_kept(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await signed_in(sessions, settings, Role.PATIENT)
    digest = hashlib.sha256(PDF).hexdigest()

    record_id, ticket = await _upload(client, pat, PDF, "application/pdf", sha256=digest.upper())
    confirmed = await graphql(client, CONFIRM, {"id": record_id}, token=pat.token)

    assert ticket["uploadHeaders"] == {
        "Content-Type": "application/pdf",
        "x-amz-checksum-sha256": base64.b64encode(hashlib.sha256(PDF).digest()).decode(),
    }
    # Signed into the URL: S3 refuses a PUT without the header, or with other bytes.
    assert "x-amz-checksum-sha256" in ticket["uploadUrl"]
    assert confirmed["data"]["confirmRecordUpload"]["sha256"] == digest


async def test_a_sha256_mismatch_is_refused(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await signed_in(sessions, settings, Role.PATIENT)
    other = PDF.replace(b"lab", b"LAB")  # the same size, other bytes
    requested = await graphql(
        client, REQUEST, _input(pat, PDF, "application/pdf", sha256=hashlib.sha256(PDF).hexdigest()),
        token=pat.token,
    )  # fmt: skip
    ticket = requested["data"]["requestRecordUpload"]
    # The embedded S3 server does not check the checksum header; confirmation does.
    async with httpx.AsyncClient() as s3:
        put = await s3.put(ticket["uploadUrl"], content=other, headers=ticket["uploadHeaders"])

    refused = await graphql(client, CONFIRM, {"id": ticket["record"]["id"]}, token=pat.token)

    assert put.status_code == 200
    assert [(e["message"], e["extensions"]["code"]) for e in refused["errors"]] == [
        ("The uploaded document does not match the declared sha256.", "BAD_USER_INPUT")
    ]
    assert await _listed(sessions) == 0


async def test_a_bad_sha256_is_refused_before_anything_is_created(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await signed_in(sessions, settings, Role.PATIENT)

    body = await graphql(
        client, REQUEST, _input(pat, PDF, "application/pdf", sha256="abc"), token=pat.token
    )

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        ("input.sha256: 64 hexadecimal digits, the SHA-256 of the file", "BAD_USER_INPUT")
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(MedicalRecord)) == 0


async def test_confirming_an_unknown_or_a_strangers_record_gets_one_answer(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    owner = await signed_in(sessions, settings, Role.PATIENT, name="Owner")
    stranger = await signed_in(sessions, settings, Role.PATIENT, name="Stranger")
    record_id, _ = await _upload(client, owner, PDF, "application/pdf")
    unknown = "00000000-0000-7000-8000-000000000000"

    theirs = await graphql(client, CONFIRM, {"id": record_id}, token=stranger.token)
    nobodys = await graphql(client, CONFIRM, {"id": unknown}, token=stranger.token)

    assert theirs == nobodys == {
        "data": None,
        "errors": [{"message": "You may not change this record.", "locations": [{"line": 1, "column": 24}],
                    "path": ["confirmRecordUpload"], "extensions": {"code": "FORBIDDEN"}}],
    }  # fmt: skip
    assert await _listed(sessions) == 0
