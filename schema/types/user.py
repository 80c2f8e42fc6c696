import uuid

import strawberry

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
    patient_id: strawberry.Private[uuid.UUID | None]
    doctor_id: strawberry.Private[uuid.UUID | None]
    # Whose eyes the profile fields are read with.
    viewer: strawberry.Private[Caller]

    @strawberry.field
    async def patient(self, info: strawberry.Info[Context]) -> Patient | None:
        if self.patient_id is None:
            return None
        loaders = info.context.loaders_for(self.viewer)
        profile = await loaders.readable_patient.load(self.patient_id)
        return Patient.from_profile(profile) if profile is not None else None

    @strawberry.field
    async def doctor(self, info: strawberry.Info[Context]) -> Doctor | None:
        if self.doctor_id is None:
            return None
        doctor = await info.context.loaders_for(self.viewer).doctor.load(self.doctor_id)
        return Doctor.from_model(doctor) if doctor is not None else None

    @classmethod
    def of(cls, email: str, viewer: Caller) -> "User":
        """The user ``viewer`` is, seen by themselves."""
        return cls(
            id=strawberry.ID(str(viewer.user_id)),
            email=email,
            role=viewer.role,
            patient_id=viewer.patient_id,
            doctor_id=viewer.doctor_id,
            viewer=viewer,
        )


@strawberry.type
class AuthPayload:
    access_token: str
    refresh_token: str
    expires_in: int = strawberry.field(description="Seconds until the access token expires.")
    user: User
