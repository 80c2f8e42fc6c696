import uuid
from collections.abc import Callable, Coroutine
from dataclasses import dataclass
from functools import partial
from typing import Any, cast

from aiodataloader import DataLoader
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.models import (
    Appointment,
    Clinic,
    Doctor,
    Notification,
    ScheduleException,
    ScheduleTemplate,
)
from domain.audit import AuditTrail
from domain.caller import Caller
from domain.patients import PatientProfile
from domain.records import RecordsPage
from domain.slot_grid import Slot
from loaders.appointments import load_readable_appointments
from loaders.clinics import load_clinics_of_doctors
from loaders.doctors import load_doctors
from loaders.notifications import load_notifications
from loaders.patients import load_readable_patients
from loaders.records import DocumentRef, RecordsKey, load_document_urls, load_records
from loaders.schedules import ExceptionsKey, load_exceptions, load_templates
from loaders.slots import load_slots
from services.documents import DocumentLinks
from services.slot_cache import DayKey, SlotCache


@dataclass(frozen=True, slots=True)
class Loaders:
    """One set per request, so cached rows never outlive the request that read them
    and never cross from one caller to another."""

    clinics_of_doctor: DataLoader[uuid.UUID, list[Clinic]]
    doctor: DataLoader[uuid.UUID, Doctor | None]
    readable_patient: DataLoader[uuid.UUID, PatientProfile | None]
    slots: DataLoader[DayKey, list[Slot]]
    readable_appointment: DataLoader[uuid.UUID, Appointment | None]
    records: DataLoader[RecordsKey, RecordsPage]
    document_url: DataLoader[DocumentRef, str]
    notifications: DataLoader[uuid.UUID, list[Notification]]
    schedule_templates: DataLoader[uuid.UUID, list[ScheduleTemplate]]
    schedule_exceptions: DataLoader[ExceptionsKey, list[ScheduleException]]


def create_loaders(
    sessions: async_sessionmaker[AsyncSession],
    slot_cache: SlotCache,
    documents: DocumentLinks,
    caller: Caller | None,
    audit: AuditTrail,
) -> Loaders:
    return Loaders(
        clinics_of_doctor=DataLoader(partial(load_clinics_of_doctors, sessions)),
        doctor=DataLoader(partial(load_doctors, sessions)),
        # Refusals come back as exceptions in the batch, which load() raises.
        readable_patient=DataLoader(
            cast(
                "Callable[[list[uuid.UUID]], Coroutine[Any, Any, list[PatientProfile | None]]]",
                partial(load_readable_patients, sessions, caller, audit),
            )
        ),
        slots=DataLoader(partial(load_slots, sessions, slot_cache)),
        readable_appointment=DataLoader(
            cast(
                "Callable[[list[uuid.UUID]], Coroutine[Any, Any, list[Appointment | None]]]",
                partial(load_readable_appointments, sessions, caller, audit),
            )
        ),
        records=DataLoader(partial(load_records, sessions)),
        document_url=DataLoader(partial(load_document_urls, documents, caller, audit)),
        notifications=DataLoader(partial(load_notifications, sessions)),
        schedule_templates=DataLoader(partial(load_templates, sessions)),
        schedule_exceptions=DataLoader(partial(load_exceptions, sessions)),
    )
