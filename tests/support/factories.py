"""Rows for tests, inserted through the ORM with the fewest fields that make them valid."""

import itertools
from datetime import date, datetime, timedelta

from sqlalchemy.ext.asyncio import AsyncSession

from db.enums import AppointmentStatus, Role
from db.ids import uuid7
from db.models import Appointment, Clinic, Doctor, DoctorClinic, Patient, User

_serial = itertools.count(1)


async def add_clinic(
    session: AsyncSession, name: str = "Riverside Clinic", timezone: str = "America/New_York"
) -> Clinic:
    clinic = Clinic(name=name, address="1 Main St", timezone=timezone)
    session.add(clinic)
    await session.flush()
    return clinic


async def add_user(session: AsyncSession, role: Role, email: str | None = None) -> User:
    user = User(
        id=uuid7(),
        email=email or f"user{next(_serial)}@example.test",
        password_hash="not-a-real-hash",
        role=role,
    )
    session.add(user)
    await session.flush()
    return user


async def add_doctor(
    session: AsyncSession,
    name: str = "Dr. Ada Grey",
    specialty: str = "Cardiology",
    clinics: tuple[Clinic, ...] = (),
) -> Doctor:
    user = await add_user(session, Role.DOCTOR)
    doctor = Doctor(user_id=user.id, name=name, specialty=specialty)
    session.add(doctor)
    await session.flush()
    session.add_all(DoctorClinic(doctor_id=doctor.id, clinic_id=clinic.id) for clinic in clinics)
    await session.flush()
    return doctor


async def add_patient(session: AsyncSession, name: str = "Pat Doe") -> Patient:
    user = await add_user(session, Role.PATIENT)
    patient = Patient(user_id=user.id, name=name, date_of_birth=date(1980, 1, 2))
    session.add(patient)
    await session.flush()
    return patient


def appointment(
    *,
    doctor: Doctor,
    patient: Patient,
    clinic: Clinic,
    starts_at: datetime,
    minutes: int = 30,
    status: AppointmentStatus = AppointmentStatus.SCHEDULED,
) -> Appointment:
    return Appointment(
        doctor_id=doctor.id,
        patient_id=patient.id,
        clinic_id=clinic.id,
        starts_at=starts_at,
        ends_at=starts_at + timedelta(minutes=minutes),
        status=status,
        cancelled_at=starts_at if status is AppointmentStatus.CANCELLED else None,
    )
