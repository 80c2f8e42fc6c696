"""A patient changes their own profile; a new phone or e-mail address is unverified, and
changing the e-mail address asks for the password."""

import httpx
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Patient
from domain.auth.password_change import WRONG_CURRENT_PASSWORD
from domain.patient_profile import PASSWORD_FOR_EMAIL
from services.settings import Settings
from tests.support.accounts import PASSWORD, PHONE, UPDATE_PROFILE, ok, register
from tests.support.api import graphql
from tests.support.scheduling import make_monday_world, signed_in

EMAIL = "jane@example.test"


def _errors(body: dict[str, object]) -> list[tuple[str, str]]:
    errors = body.get("errors")
    assert isinstance(errors, list), body
    return [(error["message"], error["extensions"]["code"]) for error in errors]


async def test_a_patient_changes_name_birth_date_phone_and_consent(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = (await register(client, email=EMAIL))["accessToken"]
    changes = {"name": "Jane Doe", "dateOfBirth": "1985-04-12", "phone": "+4930123456",
               "smsOptIn": False, "emailOptIn": False}  # fmt: skip

    changed = await ok(client, UPDATE_PROFILE, {"input": changes}, token)
    cleared = await ok(
        client, UPDATE_PROFILE, {"input": {"phone": None, "dateOfBirth": None}}, token
    )

    assert changed["updateMyProfile"] == {
        "name": "Jane Doe", "dateOfBirth": "1985-04-12", "phone": "+4930123456",
        "phoneVerified": False, "email": EMAIL, "smsOptIn": False, "emailOptIn": False,
    }  # fmt: skip
    assert cleared["updateMyProfile"]["phone"] is None
    assert cleared["updateMyProfile"]["dateOfBirth"] is None
    assert cleared["updateMyProfile"]["name"] == "Jane Doe"


async def test_changing_the_email_address_needs_the_password(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    token = (await register(client, email=EMAIL))["accessToken"]
    await register(client, email="taken@example.test")

    missing = await graphql(
        client, UPDATE_PROFILE, {"input": {"email": "new@example.test"}}, token=token
    )
    wrong = await graphql(client, UPDATE_PROFILE, {"input": {"email": "new@example.test",
                          "currentPassword": "not my password", "name": "Changed"}}, token=token)  # fmt: skip
    taken = await graphql(client, UPDATE_PROFILE, {"input": {"email": "TAKEN@example.test",
                          "currentPassword": PASSWORD}}, token=token)  # fmt: skip
    changed = await ok(client, UPDATE_PROFILE, {"input": {"email": "New@Example.test",
                       "currentPassword": PASSWORD}}, token)  # fmt: skip

    assert _errors(missing) == [(PASSWORD_FOR_EMAIL, "BAD_USER_INPUT")]
    assert _errors(wrong) == [(WRONG_CURRENT_PASSWORD, "BAD_USER_INPUT")]
    assert _errors(taken) == [
        ("A user with e-mail TAKEN@example.test already exists.", "BAD_USER_INPUT")
    ]
    assert changed["updateMyProfile"]["email"] == "New@example.test"
    assert changed["updateMyProfile"]["name"] == "Jane Roe"  # the refused change left it


async def test_only_patients_have_a_profile_and_names_cannot_be_removed(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    _, doctor, _ = await make_monday_world(sessions)
    doc = await signed_in(sessions, settings, Role.DOCTOR, doctor=doctor)
    token = (await register(client, email=EMAIL))["accessToken"]

    as_doctor = await graphql(client, UPDATE_PROFILE, {"input": {"name": "X"}}, token=doc.token)
    null_name = await graphql(client, UPDATE_PROFILE, {"input": {"name": None}}, token=token)
    bad_phone = await graphql(client, UPDATE_PROFILE, {"input": {"phone": "0123"}}, token=token)

    assert _errors(as_doctor) == [("Only patients have a profile to change.", "FORBIDDEN")]
    assert _errors(null_name) == [
        ("`name` cannot be null; leave it out to keep it.", "BAD_USER_INPUT")
    ]
    assert [code for _, code in _errors(bad_phone)] == ["BAD_USER_INPUT"]
    async with sessions() as session:
        patient = await session.scalar(select(Patient))
    assert patient is not None
    assert (patient.name, patient.phone) == ("Jane Roe", PHONE)
