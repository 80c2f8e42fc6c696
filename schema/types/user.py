import uuid

import strawberry

from db import models
from domain.caller import Caller
from schema.context import Context
from schema.types.doctor import Doctor
from schema.types.enums import Role
from schema.types.patient import Patient


@strawberry.type
class User:
    id: strawberry.ID
    email: str
    role: Role
    email_verified: bool = strawberry.field(
        description="The owner followed a link sent to this address; appointment e-mails "
        "go only to a verified address."
    )
    active: bool = strawberry.field(description="False once deactivated: no sign-in, no tokens.")
    patient_id: strawberry.Private[uuid.UUID | None]
    doctor_id: strawberry.Private[uuid.UUID | None]
    # Whose eyes the profile fields are read with; nobody's for a caller not signed in.
    viewer: strawberry.Private[Caller | None]

    @strawberry.field
    async def patient(self, info: strawberry.Info[Context]) -> Patient | None:
        if self.patient_id is None or self.viewer is None:
            return None
        loaders = info.context.loaders_for(self.viewer)
        profile = await loaders.readable_patient.load(self.patient_id)
        return Patient.from_profile(profile) if profile is not None else None

    @strawberry.field
    async def doctor(self, info: strawberry.Info[Context]) -> Doctor | None:
        if self.doctor_id is None or self.viewer is None:
            return None
        doctor = await info.context.loaders_for(self.viewer).doctor.load(self.doctor_id)
        return Doctor.from_model(doctor) if doctor is not None else None

    @classmethod
    def of(cls, row: models.User, viewer: Caller) -> "User":
        """The user ``viewer`` is, seen by themselves."""
        return cls.seen_by(row, viewer.patient_id, viewer.doctor_id, viewer)

    @classmethod
    def seen_by(
        cls,
        row: models.User,
        patient_id: uuid.UUID | None,
        doctor_id: uuid.UUID | None,
        viewer: Caller | None,
    ) -> "User":
        return cls(
            id=strawberry.ID(str(row.id)),
            email=row.email,
            role=row.role,
            email_verified=row.email_verified_at is not None,
            active=row.is_active,
            patient_id=patient_id,
            doctor_id=doctor_id,
            viewer=viewer,
        )


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User
