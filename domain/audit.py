"""The audit trail (HIPAA 164.312(b)): who touched which patient's data, and the outcome.

Entries gather during a request and are written together at its end: one
statement per request, not one per field, and one execution of it: the rows go as
one JSON parameter (an executemany of a page's 52 rows cost the API ~1 ms of CPU and
PostgreSQL 52 INSERTs). The statement is built once, at import: building a
Core statement costs more CPU than running it.
"""

import uuid
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any, NamedTuple, cast

import orjson
from sqlalchemy import (
    CTE,
    ColumnElement,
    Insert,
    Select,
    String,
    Table,
    Uuid,
    bindparam,
    func,
    insert,
    literal,
    literal_column,
    select,
)
from sqlalchemy import cast as sql_cast
from sqlalchemy.dialects.postgresql import INET, JSONB
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from db.enums import AuditOutcome, Role
from db.models import Appointment, AuditEntry
from db.request_sessions import execute_atomically
from domain.caller import Caller


class AuditEvent(NamedTuple):
    """One row of the trail. A named tuple: immutable, and made in a fifth of a frozen
    dataclass's time (a page of records adds one per link)."""

    action: str
    outcome: AuditOutcome
    patient_id: uuid.UUID | None = None
    resource_type: str | None = None
    resource_id: str | None = None
    # Filled from the trail's caller unless given (a login names its user).
    actor_user_id: uuid.UUID | None = None
    actor_role: Role | None = None


# The columns that differ from row to row: each event is one JSON array, in the order
# of AuditEvent's fields, and the request's events one JSON array of those.
_PER_ROW = (
    "actor_user_id",
    "actor_role",
    "action",
    "patient_id",
    "resource_type",
    "resource_id",
    "outcome",
)
_UUIDS = frozenset({"actor_user_id", "patient_id"})
# jsonb: parsed once; each ->> on a json value parses its element's text again (seven a
# row), which cost PostgreSQL about a third more CPU for a page's 52 rows.
_EVENTS = (
    func.jsonb_array_elements(sql_cast(bindparam("events", type_=String()), JSONB))
    .table_valued("value")
    .render_derived(name="event")
)


def _event_field(name: str) -> ColumnElement[Any]:
    text_value = _EVENTS.c.value.op("->>")(literal_column(str(AuditEvent._fields.index(name))))
    return sql_cast(text_value, Uuid() if name in _UUIDS else String()).label(name)


def _insert_rows(rows: Select[Any]) -> Insert:
    """The audit rows ``rows`` selects: the per-row columns, then ip and request id."""
    return insert(cast(Table, AuditEntry.__table__)).from_select(
        [*_PER_ROW, "ip", "request_id"], rows
    )


INSERT_AUDIT_ROWS = _insert_rows(
    select(
        *(_event_field(name) for name in _PER_ROW),
        sql_cast(bindparam("ip", type_=String()), INET),
        bindparam("request_id", type_=String()),
    )
)


def auditing(changed: CTE, action: str, resource_type: str) -> CTE:
    """The ALLOWED row of each row a data-modifying CTE wrote (one returning ``id`` and
    ``patient_id``), in the same statement: the change and its trail commit together,
    in one round trip. Binds ``audit_actor_user_id``, ``audit_actor_role``, ``audit_ip``
    and ``audit_request_id``: pass :meth:`AuditTrail.statement_parameters`."""
    return _insert_rows(
        select(
            bindparam("audit_actor_user_id", type_=Uuid()),
            bindparam("audit_actor_role", type_=String()),
            literal(action, String),
            changed.c.patient_id,
            literal(resource_type, String),
            sql_cast(changed.c.id, String),
            literal(AuditOutcome.ALLOWED.value, String),
            sql_cast(bindparam("audit_ip", type_=String()), INET),
            bindparam("audit_request_id", type_=String()),
        )
    ).cte(f"{changed.name}_audited")


@dataclass(slots=True)
class AuditTrail:
    caller: Caller | None
    ip: str | None
    request_id: str
    events: list[AuditEvent] = field(default_factory=list)

    def record(self, event: AuditEvent) -> None:
        if event.actor_user_id is None and self.caller is not None:
            event = event._replace(actor_user_id=self.caller.user_id, actor_role=self.caller.role)
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

    def allowed_each(
        self,
        action: str,
        resource_type: str,
        resources: Iterable[tuple[uuid.UUID | None, uuid.UUID]],
    ) -> None:
        """:meth:`allowed` for each (patient id, resource id) of a page (its links): the
        same rows, made in one pass."""
        user_id, role = self._actor()
        allowed = AuditOutcome.ALLOWED
        self.events.extend(
            AuditEvent(action, allowed, patient_id, resource_type, str(resource_id), user_id, role)
            for patient_id, resource_id in resources
        )

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
        user_id, role = self._actor()
        self.events.append(
            AuditEvent(
                action=action,
                outcome=outcome,
                patient_id=patient_id,
                resource_type=resource_type,
                resource_id=None if resource is None else str(resource),
                actor_user_id=user_id,
                actor_role=role,
            )
        )

    def _actor(self) -> tuple[uuid.UUID | None, Role | None]:
        """record()'s attribution, made when an event is: the trail's caller."""
        caller = self.caller
        return (None, None) if caller is None else (caller.user_id, caller.role)

    def acting_as(self, caller: Caller) -> "AuditTrail":
        """The same trail, with events attributed to ``caller``."""
        return AuditTrail(caller=caller, ip=self.ip, request_id=self.request_id, events=self.events)

    def statement_parameters(self) -> dict[str, object]:
        """The parameters of a statement with an :func:`auditing` CTE."""
        caller = self.caller
        return {
            "audit_actor_user_id": None if caller is None else caller.user_id,
            "audit_actor_role": None if caller is None else caller.role.value,
            "audit_ip": self.ip,
            "audit_request_id": self.request_id,
        }

    def parameters(self) -> dict[str, object]:
        """The parameters of :data:`INSERT_AUDIT_ROWS`: the events as JSON, and what all
        rows share. JSON rather than an array a column: asyncpg inspects every element
        of an array (is it an array too?), which cost a page of records 0.14 ms. asyncpg's
        UUIDs (of rows read) are not the uuid module's, which orjson alone knows."""
        return {
            "events": orjson.dumps([tuple(event) for event in self.events], default=str).decode(),
            "ip": self.ip,
            "request_id": self.request_id,
        }

    async def flush(self, sessions: async_sessionmaker[AsyncSession]) -> None:
        if not self.events:
            return
        parameters = self.parameters()
        self.events.clear()
        # One statement, atomic by itself: on the request's connection it runs without a
        # transaction around it (one round trip), and is never sent twice.
        await execute_atomically(sessions, INSERT_AUDIT_ROWS, parameters)


def appointment_changed(audit: AuditTrail, action: str, appointment: Appointment) -> None:
    """A change made to an appointment, recorded as ALLOWED on it."""
    audit.allowed(
        action,
        patient_id=appointment.patient_id,
        resource_type="Appointment",
        resource_id=appointment.id,
    )
