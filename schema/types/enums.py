"""Enums shared with the database, exposed under the same names."""

from typing import TypeAlias

import strawberry

from db import enums

# Registered in place, so the database's enums are the GraphQL enums.
strawberry.enum(enums.Role)
strawberry.enum(enums.AuditOutcome)
strawberry.enum(enums.AppointmentStatus)
strawberry.enum(enums.RecordType)

Role: TypeAlias = enums.Role
AuditOutcome: TypeAlias = enums.AuditOutcome
AppointmentStatus: TypeAlias = enums.AppointmentStatus
RecordType: TypeAlias = enums.RecordType
