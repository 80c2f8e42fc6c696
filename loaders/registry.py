import uuid
from collections.abc import Callable, Coroutine
from functools import cached_property, partial
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
from loaders.records import RecordsKey, load_records
from loaders.schedules import ExceptionsKey, load_exceptions, load_templates
from loaders.slots import load_slots
from services.slot_cache import DayKey, SlotCache


class Loaders:
    """One set per request, so cached rows never outlive the request that read them
    and never cross from one caller to another. Each loader is made when first used:
    most requests use one or two of them."""

    def __init__(
        self,
        sessions: async_sessionmaker[AsyncSession],
        slot_cache: SlotCache,
        caller: Caller | None,
        audit: AuditTrail,
    ) -> None:
        self._sessions = sessions
        self._slot_cache = slot_cache
        self._caller = caller
        self._audit = audit

    @cached_property
    def clinics_of_doctor(self) -> DataLoader[uuid.UUID, list[Clinic]]:
        return DataLoader(partial(load_clinics_of_doctors, self._sessions))

    @cached_property
    def doctor(self) -> DataLoader[uuid.UUID, Doctor | None]:
        return DataLoader(partial(load_doctors, self._sessions))

    @cached_property
    def readable_patient(self) -> DataLoader[uuid.UUID, PatientProfile | None]:
        # Refusals come back as exceptions in the batch, which load() raises.
        return DataLoader(
            cast(
                "Callable[[list[uuid.UUID]], Coroutine[Any, Any, list[PatientProfile | None]]]",
                partial(load_readable_patients, self._sessions, self._caller, self._audit),
            )
        )

    @cached_property
    def slots(self) -> DataLoader[DayKey, list[Slot]]:
        return DataLoader(partial(load_slots, self._sessions, self._slot_cache))

    @cached_property
    def readable_appointment(self) -> DataLoader[uuid.UUID, Appointment | None]:
        return DataLoader(
            cast(
                "Callable[[list[uuid.UUID]], Coroutine[Any, Any, list[Appointment | None]]]",
                partial(load_readable_appointments, self._sessions, self._caller, self._audit),
            )
        )

    @cached_property
    def records(self) -> DataLoader[RecordsKey, RecordsPage]:
        return DataLoader(partial(load_records, self._sessions))

    @cached_property
    def notifications(self) -> DataLoader[uuid.UUID, list[Notification]]:
        return DataLoader(partial(load_notifications, self._sessions))

    @cached_property
    def schedule_templates(self) -> DataLoader[uuid.UUID, list[ScheduleTemplate]]:
        return DataLoader(partial(load_templates, self._sessions))

    @cached_property
    def schedule_exceptions(self) -> DataLoader[ExceptionsKey, list[ScheduleException]]:
        return DataLoader(partial(load_exceptions, self._sessions))
