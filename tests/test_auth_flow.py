"""Sign-up, sign-in, rotation with reuse detection, sign-out: through the API."""

import httpx
import pytest
from argon2 import PasswordHasher
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Patient, RefreshToken, RefreshTokenFamily, User
from services.settings import Settings
from tests.support.api import error_codes, graphql, without_cost
from tests.support.people import PASSWORD, person

REGISTER = """
mutation Register($input: RegisterPatientInput!) {
  registerPatient(input: $input) {
    accessToken refreshToken expiresIn
    user { email role patient { name dateOfBirth phone smsOptIn emailOptIn } doctor { id } }
  }
}
"""
LOGIN = """
mutation Login($email: String!, $password: String!) {
  login(email: $email, password: $password) { accessToken refreshToken user { email role } }
}
"""
REFRESH = """
mutation Refresh($token: String!) {
  refreshToken(refreshToken: $token) { accessToken refreshToken }
}
"""
ME = "{ me { email role patient { name } } }"
NEW_PATIENT = {
    "email": "Jane.Roe@Example.test",
    "password": "a long passphrase",
    "name": "Jane Roe",
    "dateOfBirth": "1985-04-12",
    "phone": "+14155550123",
    "smsOptIn": False,
}


async def test_register_then_use_the_tokens(client: httpx.AsyncClient) -> None:
    registered = await graphql(client, REGISTER, {"input": NEW_PATIENT})

    assert "errors" not in registered, registered
    payload = registered["data"]["registerPatient"]
    assert payload["expiresIn"] == 900
    assert payload["user"] == {
        "email": "Jane.Roe@example.test",
        "role": "PATIENT",
        "patient": {
            "name": "Jane Roe",
            "dateOfBirth": "1985-04-12",
            "phone": "+14155550123",
            "smsOptIn": False,
            "emailOptIn": True,
        },
        "doctor": None,
    }
    me = await graphql(client, ME, token=payload["accessToken"])
    assert me == {
        "data": {
            "me": {
                "email": "Jane.Roe@example.test",
                "role": "PATIENT",
                "patient": {"name": "Jane Roe"},
            }
        }
    }
    assert await graphql(client, ME) == {"data": {"me": None}}


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            {"email": "jane.roe@EXAMPLE.test"},
            "A user with e-mail jane.roe@example.test already exists.",
        ),
        ({"email": "nobody"}, "input.email: not a valid e-mail address"),
        ({"password": "short"}, "input.password: 8 to 256 characters"),
        ({"phone": "555-0123"}, "input.phone: must be in E.164 form, e.g. +14155550123"),
        ({"dateOfBirth": "2199-01-01"}, "`dateOfBirth` must not be in the future."),
        ({"name": "  "}, "input.name: must not be blank"),
    ],
)
async def test_bad_registrations_change_nothing(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    change: dict[str, str],
    message: str,
) -> None:
    await graphql(client, REGISTER, {"input": NEW_PATIENT})

    refused = await graphql(client, REGISTER, {"input": {**NEW_PATIENT, **change}})

    assert refused["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in refused["errors"]] == [
        (message, "BAD_USER_INPUT")
    ]
    async with sessions() as session:
        assert await session.scalar(select(func.count()).select_from(User)) == 1
        assert await session.scalar(select(func.count()).select_from(Patient)) == 1


async def test_wrong_password_and_unknown_email_look_the_same(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    await person(sessions, settings, Role.PATIENT, "Pat Doe", "pat@example.test")

    wrong = await graphql(client, LOGIN, {"email": "pat@example.test", "password": "nope nope"})
    unknown = await graphql(client, LOGIN, {"email": "who@example.test", "password": "nope nope"})
    right = await graphql(client, LOGIN, {"email": "PAT@example.test", "password": PASSWORD})

    expected = [{"message": "Invalid e-mail or password.", "code": "UNAUTHENTICATED"}]
    for refused in (wrong, unknown):
        assert refused["data"] is None
        assert [
            {"message": e["message"], "code": e["extensions"]["code"]} for e in refused["errors"]
        ] == expected
    assert right["data"]["login"]["user"] == {"email": "pat@example.test", "role": "PATIENT"}


async def test_login_rehashes_a_password_hashed_with_weaker_parameters(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await person(sessions, settings, Role.PATIENT, "Pat Doe", "pat@example.test")
    weak = PasswordHasher(time_cost=1, memory_cost=8 * 1024, parallelism=1).hash(PASSWORD)
    async with sessions.begin() as session:
        user = await session.get(User, pat.user.id)
        assert user is not None
        user.password_hash = weak

    body = await graphql(client, LOGIN, {"email": "pat@example.test", "password": PASSWORD})

    assert "errors" not in body
    async with sessions() as session:
        stored = await session.scalar(select(User.password_hash).where(User.id == pat.user.id))
    assert stored is not None
    assert stored.startswith("$argon2id$v=19$m=19456,t=2,p=1$")


async def test_refresh_rotates_and_reuse_revokes_the_whole_family(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await person(sessions, settings, Role.PATIENT, "Pat Doe")

    first = await graphql(client, REFRESH, {"token": pat.refresh_token})
    newest = first["data"]["refreshToken"]["refreshToken"]
    assert newest != pat.refresh_token
    # The stolen, already rotated token comes back:
    reused = await graphql(client, REFRESH, {"token": pat.refresh_token})
    after_reuse = await graphql(client, REFRESH, {"token": newest})

    assert error_codes(reused) == ["UNAUTHENTICATED"]
    assert reused["errors"][0]["message"] == "Invalid or expired refresh token."
    assert error_codes(after_reuse) == ["UNAUTHENTICATED"]
    async with sessions() as session:
        families = (
            (await session.execute(select(RefreshTokenFamily.revoked_reason))).scalars().all()
        )
        tokens = await session.scalar(select(func.count()).select_from(RefreshToken))
    assert families == ["refresh token reused"]
    assert tokens == 2


async def test_logout_revokes_the_access_token_and_the_session(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await person(sessions, settings, Role.PATIENT, "Pat Doe")
    assert (await graphql(client, ME, token=pat.access_token))["data"]["me"] is not None

    out = await graphql(client, "mutation { logout }", token=pat.access_token)
    me_after = await graphql(client, ME, token=pat.access_token)
    refresh_after = await graphql(client, REFRESH, {"token": pat.refresh_token})

    assert out == {"data": {"logout": True}}
    assert me_after["data"] is None
    assert [(e["message"], e["extensions"]["code"]) for e in me_after["errors"]] == [
        ("Invalid or expired access token.", "UNAUTHENTICATED")
    ]
    assert error_codes(refresh_after) == ["UNAUTHENTICATED"]


@pytest.mark.parametrize(
    "authorization",
    ["Bearer", "Bearer not.a.jwt", "Basic dXNlcjpwYXNz", "Bearer eyJhbGciOiJub25lIn0.e30."],
)
async def test_unusable_credentials_refuse_even_public_fields(
    client: httpx.AsyncClient, authorization: str
) -> None:
    response = await client.post(
        "/graphql", json={"query": "{ clinics { id } }"}, headers={"Authorization": authorization}
    )

    assert without_cost(response.json()) == {
        "data": None,
        "errors": [
            {
                "message": "Invalid or expired access token.",
                "extensions": {"code": "UNAUTHENTICATED"},
            }
        ],
    }


async def test_a_refresh_token_is_not_an_access_token(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession], settings: Settings
) -> None:
    pat = await person(sessions, settings, Role.PATIENT, "Pat Doe")

    body = await graphql(client, ME, token=pat.refresh_token)

    assert error_codes(body) == ["UNAUTHENTICATED"]
