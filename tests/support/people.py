"""Signed-in people for tests: real accounts and real tokens from the API's own keys."""

from dataclasses import dataclass

from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import Role
from db.models import Doctor, Patient, User
from domain.auth.sessions import sign_in
from domain.users import create_user
from services.auth.tokens import TokenService
from services.settings import Settings

PASSWORD = "correct horse battery"


@dataclass(frozen=True)
class Person:
    user: User
    patient: Patient | None
    doctor: Doctor | None
    access_token: str
    refresh_token: str


def token_service(settings: Settings) -> TokenService:
    return TokenService.from_settings(settings)


async def person(
    sessions: async_sessionmaker[AsyncSession],
    settings: Settings,
    role: Role,
    name: str,
    email: str | None = None,
) -> Person:
    async with sessions.begin() as session:
        new = await create_user(
            session,
            email=email or f"{name.lower().replace(' ', '.')}@example.test",
            password=PASSWORD,
            role=role,
            name=name,
        )
        signed_in = await sign_in(session, token_service(settings), new.user)
    return Person(
        user=new.user,
        patient=new.patient,
        doctor=new.doctor,
        access_token=signed_in.access_token,
        refresh_token=signed_in.refresh_token,
    )
