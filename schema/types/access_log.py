from datetime import datetime

import strawberry

from domain.access_log import AccessLogRow
from schema.types.enums import AuditOutcome, Role


@strawberry.type
class AccessLogEntry:
    at: datetime
    actor_id: strawberry.ID | None
    actor_role: Role | None
    actor_name: str | None
    action: str
    resource_type: str | None
    resource_id: str | None
    outcome: AuditOutcome

    @classmethod
    def from_row(cls, row: AccessLogRow) -> "AccessLogEntry":
        entry = row.entry
        return cls(
            at=entry.at,
            actor_id=strawberry.ID(str(entry.actor_user_id)) if entry.actor_user_id else None,
            actor_role=entry.actor_role,
            actor_name=row.actor_name,
            action=entry.action,
            resource_type=entry.resource_type,
            resource_id=entry.resource_id,
            outcome=entry.outcome,
        )
