import uuid
from dataclasses import dataclass
from functools import partial

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import Clinic, Doctor
from loaders.clinics import load_clinics, load_clinics_of_doctors
from loaders.doctors import load_doctors


@dataclass(frozen=True, slots=True)
class Loaders:
    """One set per request, so cached rows never outlive the request that read them."""

    clinic: DataLoader[uuid.UUID, Clinic | None]
    clinics_of_doctor: DataLoader[uuid.UUID, list[Clinic]]
    doctor: DataLoader[uuid.UUID, Doctor | None]


def create_loaders(sessions: async_sessionmaker[AsyncSession]) -> Loaders:
    return Loaders(
        clinic=DataLoader(partial(load_clinics, sessions)),
        clinics_of_doctor=DataLoader(partial(load_clinics_of_doctors, sessions)),
        doctor=DataLoader(partial(load_doctors, sessions)),
    )
