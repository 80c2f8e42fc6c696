from datetime import datetime

import strawberry

from db import models
from schema.types.enums import NotificationChannel, NotificationKind, NotificationStatus


@strawberry.type
class Notification:
    kind: NotificationKind
    channel: NotificationChannel
    status: NotificationStatus
    scheduled_for: datetime
    attempts: int
    sent_at: datetime | None
    last_error: str | None

    @classmethod
    def from_model(cls, notification: models.Notification) -> "Notification":
        return cls(
            kind=notification.kind,
            channel=notification.channel,
            status=notification.status,
            scheduled_for=notification.scheduled_for,
            attempts=notification.attempts,
            sent_at=notification.sent_at,
            last_error=notification.last_error,
        )
