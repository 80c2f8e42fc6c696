"""Enums shared with the database, exposed under the same names."""

from typing import TypeAlias

import strawberry

from db import enums

# Registered in place, so the database's enums are the GraphQL enums.
strawberry.enum(enums.Role)
strawberry.enum(enums.AuditOutcome)
strawberry.enum(enums.AppointmentStatus)
strawberry.enum(enums.RecordType)
strawberry.enum(enums.NotificationKind)
strawberry.enum(enums.NotificationChannel)
strawberry.enum(enums.NotificationStatus)
strawberry.enum(enums.WaitlistStatus)

Role: TypeAlias = enums.Role
AuditOutcome: TypeAlias = enums.AuditOutcome
AppointmentStatus: TypeAlias = enums.AppointmentStatus
RecordType: TypeAlias = enums.RecordType
NotificationKind: TypeAlias = enums.NotificationKind
NotificationChannel: TypeAlias = enums.NotificationChannel
NotificationStatus: TypeAlias = enums.NotificationStatus
WaitlistStatus: TypeAlias = enums.WaitlistStatus
