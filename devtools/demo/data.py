"""The demo data set: fixed clinics, doctors, schedules and patients with stable ids."""

import uuid
from dataclasses import dataclass
from datetime import date, time
from typing import Final

from db.enums import Role

# Ids derive from names such as "clinic:1" in this namespace, so every load of the
# demo data names the same rows and a second load can recognise them.
NAMESPACE: Final = uuid.UUID("6f1c8a52-3d4e-5b7a-9c0d-2e8f41a6b913")

EMAIL_DOMAIN: Final = "demo.medappt.dev"

DEMO_PASSWORDS: Final[dict[Role, str]] = {
    Role.ADMIN: "admin-demo-pass",
    Role.DOCTOR: "doctor-demo-pass",
    Role.PATIENT: "patient-demo-pass",
}


def demo_id(kind: str, *parts: object) -> uuid.UUID:
    return uuid.uuid5(NAMESPACE, ":".join([kind, *map(str, parts)]))


ADMIN_USER_ID: Final = demo_id("user", "admin")
ADMIN_EMAIL: Final = f"admin@{EMAIL_DOMAIN}"


@dataclass(frozen=True, slots=True)
class DemoClinic:
    number: int
    name: str
    address: str
    timezone: str

    @property
    def id(self) -> uuid.UUID:
        return demo_id("clinic", self.number)


@dataclass(frozen=True, slots=True)
class WeeklyBlock:
    """One schedule template: a working block on an ISO weekday, in clinic-local time."""

    clinic: DemoClinic
    day_of_week: int
    start: time
    end: time


@dataclass(frozen=True, slots=True)
class DemoDoctor:
    number: int
    name: str
    specialty: str
    slot_minutes: int
    blocks: tuple[WeeklyBlock, ...]

    @property
    def id(self) -> uuid.UUID:
        return demo_id("doctor", self.number)

    @property
    def user_id(self) -> uuid.UUID:
        return demo_id("user", "doctor", self.number)

    @property
    def email(self) -> str:
        return f"doctor{self.number:02d}@{EMAIL_DOMAIN}"

    @property
    def clinics(self) -> tuple[DemoClinic, ...]:
        return tuple(dict.fromkeys(block.clinic for block in self.blocks))


@dataclass(frozen=True, slots=True)
class DemoPatient:
    number: int
    name: str
    date_of_birth: date
    phone: str
    home_clinic: DemoClinic

    @property
    def id(self) -> uuid.UUID:
        return demo_id("patient", self.number)

    @property
    def user_id(self) -> uuid.UUID:
        return demo_id("user", "patient", self.number)

    @property
    def email(self) -> str:
        return f"patient{self.number:02d}@{EMAIL_DOMAIN}"


RIVERSIDE = DemoClinic(
    1, "Riverside Family Clinic", "120 Riverside Drive, New York, NY 10024", "America/New_York"
)
LAKESIDE = DemoClinic(
    2, "Lakeside Medical Center", "455 N Lake Shore Drive, Chicago, IL 60611", "America/Chicago"
)
MITTE = DemoClinic(3, "Mitte Praxis", "Torstraße 101, 10119 Berlin", "Europe/Berlin")
CLINICS: Final = (RIVERSIDE, LAKESIDE, MITTE)

_MON_FRI = (1, 2, 3, 4, 5)


def _week(
    clinic: DemoClinic, days: tuple[int, ...], first_hour: int = 9, last_hour: int = 17
) -> tuple[WeeklyBlock, ...]:
    """A morning and an afternoon block on each day, with lunch from 12:00 to 13:00."""
    return tuple(
        WeeklyBlock(clinic, day, start, end)
        for day in days
        for start, end in ((time(first_hour), time(12)), (time(13), time(last_hour)))
    )


# Doctors at two clinics work there on different weekdays: the schedule_templates
# exclusion constraint compares wall-clock times regardless of the clinic's zone.
DOCTORS: Final = (
    DemoDoctor(1, "Dr. Amelia Hart", "Cardiology", 30, _week(RIVERSIDE, _MON_FRI)),
    DemoDoctor(
        2,
        "Dr. Marcus Chen",
        "Dermatology",
        20,
        _week(RIVERSIDE, (1, 3, 5)) + _week(LAKESIDE, (2, 4)),
    ),
    DemoDoctor(3, "Dr. Sofia Alvarez", "General Practice", 20, _week(RIVERSIDE, _MON_FRI, 8, 16)),
    DemoDoctor(4, "Dr. James Okafor", "Pediatrics", 30, _week(LAKESIDE, _MON_FRI)),
    DemoDoctor(
        5,
        "Dr. Priya Natarajan",
        "Neurology",
        30,
        _week(LAKESIDE, (1, 3, 5)) + _week(RIVERSIDE, (2, 4)),
    ),
    DemoDoctor(6, "Dr. Ethan Brooks", "Orthopedics", 30, _week(LAKESIDE, (1, 2, 3, 4))),
    DemoDoctor(7, "Dr. Lena Fischer", "General Practice", 20, _week(MITTE, _MON_FRI, 8, 16)),
    DemoDoctor(8, "Dr. Jonas Weber", "Cardiology", 30, _week(MITTE, _MON_FRI)),
    DemoDoctor(9, "Dr. Miriam Schulz", "Pediatrics", 20, _week(MITTE, (1, 2, 3, 4))),
    DemoDoctor(
        10,
        "Dr. Noah Kim",
        "Endocrinology",
        30,
        _week(RIVERSIDE, (1, 2)) + _week(LAKESIDE, (3, 4, 5)),
    ),
)

_US_NAMES = (
    "Olivia Bennett", "Liam Carter", "Emma Rodriguez", "Noah Thompson", "Ava Patel",
    "Mason Nguyen", "Isabella Brooks", "Lucas Ramirez", "Mia Johnson", "Ethan Walker",
    "Charlotte Kim", "Logan Rivera", "Amelia Foster", "Elijah Price", "Harper Sullivan",
    "James O'Connor", "Evelyn Diaz", "Benjamin Reed", "Abigail Morgan", "Henry Coleman",
    "Emily Tran", "Jackson Hayes", "Ella Martinez", "Sebastian Young", "Grace Howard",
    "Daniel Flores", "Chloe Bryant", "Matthew Gray", "Zoe Washington", "Samuel Ortiz",
    "Lily Jenkins", "David Chen", "Aria Simmons", "Joseph Murphy",
)  # fmt: skip
_GERMAN_NAMES = (
    "Anna Müller", "Lukas Schmidt", "Sophie Schneider", "Leon Fischer", "Marie Weber",
    "Finn Meyer", "Emilia Wagner", "Paul Becker", "Hannah Hoffmann", "Jonas Schäfer",
    "Lea Koch", "Felix Bauer", "Lina Richter", "Maximilian Klein", "Clara Wolf",
    "Elias Schröder",
)  # fmt: skip


def _patients() -> tuple[DemoPatient, ...]:
    us_names, german_names = iter(_US_NAMES), iter(_GERMAN_NAMES)
    patients = []
    for number in range(1, 51):
        clinic = CLINICS[(number - 1) % len(CLINICS)]
        # Numbers from ranges reserved for fiction: 555-01xx in the US, 030 23125 in Berlin.
        if clinic is MITTE:
            name, phone = next(german_names), f"+493023125{number:03d}"
        else:
            area_code = "212" if clinic is RIVERSIDE else "312"
            name, phone = next(us_names), f"+1{area_code}55501{number:02d}"
        # Spread birth years over 1945-2019 so there are children and older patients.
        born = date(1945 + number * 13 % 75, number * 5 % 12 + 1, number * 11 % 28 + 1)
        patients.append(DemoPatient(number, name, born, phone, clinic))
    return tuple(patients)


PATIENTS: Final = _patients()


def demo_logins() -> list[tuple[str, str, str]]:
    """(role, email, password) of the admin, the first doctor and the first patient."""
    return [
        (Role.ADMIN.value, ADMIN_EMAIL, DEMO_PASSWORDS[Role.ADMIN]),
        (Role.DOCTOR.value, DOCTORS[0].email, DEMO_PASSWORDS[Role.DOCTOR]),
        (Role.PATIENT.value, PATIENTS[0].email, DEMO_PASSWORDS[Role.PATIENT]),
    ]
