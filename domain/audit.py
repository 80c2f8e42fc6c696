"""The audit trail (HIPAA 164.312(b)): who touched which patient's data, and the outcome.

Entries gather during a request and are written together at its end: one
statement per request, not one per field.
"""

import uuid
from dataclasses import dataclass, field, replace
from typing import cast

from sqlalchemy import Table, insert
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AuditOutcome, Role
from db.models import AuditEntry
from domain.caller import Caller


@dataclass(frozen=True, slots=True)
class AuditEvent:
    action: str
    outcome: AuditOutcome
    patient_id: uuid.UUID | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    # Filled from the trail's caller unless given (a login names its user).
    actor_user_id: uuid.UUID | None = None
    actor_role: Role | None = None


@dataclass(slots=True)
class AuditTrail:
    caller: Caller | None
    ip: str | None
    request_id: str
    events: list[AuditEvent] = field(default_factory=list)

    def record(self, event: AuditEvent) -> None:
        if event.actor_user_id is None and self.caller is not None:
            event = replace(event, actor_user_id=self.caller.user_id, actor_role=self.caller.role)
        self.events.append(event)

    def allowed(
        self,
        action: str,
        *,
        patient_id: uuid.UUID | None = None,
        resource_type: str = "Patient",
        resource_id: object = None,
    ) -> None:
        """A read or change that went ahead; the resource defaults to the patient."""
        self._add(action, AuditOutcome.ALLOWED, patient_id, resource_type, resource_id)

    def denied(
        self,
        action: str,
        *,
        patient_id: uuid.UUID | None = None,
        resource_type: str = "Patient",
        resource_id: object = None,
    ) -> None:
        """A read or change that was refused: recorded like those that went ahead."""
        self._add(action, AuditOutcome.DENIED, patient_id, resource_type, resource_id)

    def _add(
        self,
        action: str,
        outcome: AuditOutcome,
        patient_id: uuid.UUID | None,
        resource_type: str,
        resource_id: object,
    ) -> None:
        resource = resource_id if resource_id is not None else patient_id
        self.record(
            AuditEvent(
                action=action,
                outcome=outcome,
                patient_id=patient_id,
                resource_type=resource_type,
                resource_id=None if resource is None else str(resource),
            )
        )

    def acting_as(self, caller: Caller) -> "AuditTrail":
        """The same trail, with events attributed to ``caller``."""
        return AuditTrail(caller=caller, ip=self.ip, request_id=self.request_id, events=self.events)

    def rows(self) -> list[dict[str, object]]:
        return [
            {
                "actor_user_id": event.actor_user_id,
                "actor_role": event.actor_role,
                "action": event.action,
                "patient_id": event.patient_id,
                "resource_type": event.resource_type,
                "resource_id": event.resource_id,
                "outcome": event.outcome,
                "ip": self.ip,
                "request_id": self.request_id,
            }
            for event in self.events
        ]

    async def flush(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        if not self.events:
            return
        rows = self.rows()
        self.events.clear()
        async with sessions() as session:
            # A Core insert of plain rows: the ORM's bulk machinery buys nothing here.
            # One statement, atomic by itself: on the request's connection it runs
            # without a transaction around it (one round trip); a pooled session
            # commits it.
            await session.execute(insert(cast(Table, AuditEntry.__table__)), rows)
            await session.commit()
