import strawberry

from domain.doctors import create_doctor
from schema.context import Context
from schema.ids import parse_id
from schema.input_limits import NEW_EMAIL, NEW_PASSWORD, PERSON_NAME, SPECIALTY, limited
from schema.types.doctor import Doctor


@strawberry.input
class CreateDoctorInput:
    email: str = strawberry.field(metadata=limited(NEW_EMAIL))
    password: str = strawberry.field(metadata=limited(NEW_PASSWORD))
    name: str = strawberry.field(metadata=limited(PERSON_NAME))
    specialty: str = strawberry.field(metadata=limited(SPECIALTY))
    clinic_ids: list[strawberry.ID]


async def resolve_create_doctor(info: strawberry.Info[Context], input: CreateDoctorInput) -> Doctor:
    async with info.context.sessions.begin() as session:
        doctor = await create_doctor(
            session,
            email=input.email,
            password=input.password,
            name=input.name,
            specialty=input.specialty,
            clinic_ids=[parse_id(id_, "clinicIds") for id_ in input.clinic_ids],
        )
    return Doctor.from_model(doctor)
