"""Who exists in the scale data set: clinics, doctors with their weekly templates, patients.

Everything is drawn from a ``random.Random`` seeded from the caller's seed, so the same
seed and the same ``now`` give the same rows. Ids are UUIDv7 like the application's own
(``db.ids``), but their timestamp is the row's ``created_at`` and their random bits come
from the seeded generator.
"""

import random
import uuid
from dataclasses import dataclass
from datetime import UTC, date, datetime, time, timedelta
from typing import Final
from zoneinfo import ZoneInfo

EMAIL_DOMAIN: Final = "scale.medappt.dev"
ADMIN_EMAIL: Final = f"admin@{EMAIL_DOMAIN}"
# Every seeded user, whatever the role, signs in with this password.
SCALE_PASSWORD: Final = "scale-demo-pass"

WEEKDAYS: Final = (1, 2, 3, 4, 5)  # ISO Monday to Friday
# Doctors at two clinics work at their first on these days and at the second on the rest.
FIRST_CLINIC_DAYS: Final = frozenset({1, 3, 5})

# One doctor in this many, beyond the first one per clinic, also works at a second clinic,
# one in the same zone or in a zone at most this far from it.
SECOND_CLINIC_EVERY: Final = 3
_NEIGHBOUR_HOURS: Final = timedelta(hours=3)

_MS = timedelta(milliseconds=1)
_EPOCH = datetime(1970, 1, 1, tzinfo=UTC)


def scale_uuid(moment: datetime, rng: random.Random) -> uuid.UUID:
    """A version 7 UUID for ``moment`` whose 74 random bits come from ``rng``."""
    unix_ms = (moment - _EPOCH) // _MS & 0xFFFF_FFFF_FFFF
    bits = rng.getrandbits(74)
    rand_a, rand_b = bits >> 62, bits & (1 << 62) - 1
    return uuid.UUID(int=unix_ms << 80 | 0x7 << 76 | rand_a << 64 | 0x2 << 62 | rand_b)


@dataclass(frozen=True, slots=True)
class City:
    name: str
    timezone: str
    street: str
    postcode: str
    phone_prefix: str  # E.164, of a range set aside for fiction where the country has one
    phone_digits: int  # digits after the prefix
    weight: int  # relative size of the clinics here


# Fifteen zones from Honolulu to Auckland, with and without daylight saving time; the
# first four are in four zones, so even a small data set spans several.
CITIES: Final = (
    City("New York", "America/New_York", "Broadway", "NY 10024", "+121255501", 2, 5),
    City("Chicago", "America/Chicago", "N Michigan Avenue", "IL 60611", "+131255501", 2, 4),
    City("Berlin", "Europe/Berlin", "Torstraße", "10119 Berlin", "+493023125", 3, 4),
    City("London", "Europe/London", "Marylebone Road", "London NW1 5LR", "+447700900", 3, 5),
    City("Los Angeles", "America/Los_Angeles", "Wilshire Blvd", "CA 90036", "+121355501", 2, 4),
    City("Sydney", "Australia/Sydney", "George Street", "NSW 2000", "+61491570", 3, 3),
    City("Phoenix", "America/Phoenix", "N Central Avenue", "AZ 85004", "+160255501", 2, 2),
    City("Tokyo", "Asia/Tokyo", "Chuo-dori", "Tokyo 104-0061", "+81355501", 3, 3),
    City("Boston", "America/New_York", "Beacon Street", "MA 02108", "+161755501", 2, 3),
    City("Denver", "America/Denver", "Colfax Avenue", "CO 80203", "+130355501", 2, 2),
    City("Munich", "Europe/Berlin", "Leopoldstraße", "80802 München", "+498923125", 3, 3),
    City("Houston", "America/Chicago", "Main Street", "TX 77002", "+171355501", 2, 3),
    City("Paris", "Europe/Paris", "Rue de Rivoli", "75004 Paris", "+33199001", 3, 4),
    City("Honolulu", "Pacific/Honolulu", "Kalakaua Avenue", "HI 96815", "+180855501", 2, 1),
    City("Madrid", "Europe/Madrid", "Gran Vía", "28013 Madrid", "+34915550", 3, 3),
    City("Auckland", "Pacific/Auckland", "Queen Street", "Auckland 1010", "+64990012", 3, 2),
    City("Seattle", "America/Los_Angeles", "Pike Street", "WA 98101", "+120655501", 2, 3),
    City("Toronto", "America/Toronto", "Yonge Street", "ON M5B 2H1", "+141655501", 2, 4),
    City("Melbourne", "Australia/Melbourne", "Collins Street", "VIC 3000", "+61491571", 3, 2),
    City("Manchester", "Europe/London", "Deansgate", "Manchester M3 4LQ", "+447700901", 3, 2),
)
_CLINIC_KINDS = (
    "Family Clinic",
    "Medical Center",
    "Health Partners",
    "Community Practice",
    "Specialist Centre",
)

_FIRST_NAMES = (
    "Olivia", "Liam", "Emma", "Noah", "Ava", "Mason", "Isabella", "Lucas", "Mia", "Ethan",
    "Charlotte", "Logan", "Amelia", "Elijah", "Harper", "James", "Evelyn", "Benjamin", "Abigail",
    "Henry", "Emily", "Jackson", "Ella", "Sebastian", "Grace", "Daniel", "Chloe", "Matthew",
    "Zoe", "Samuel", "Lily", "David", "Aria", "Joseph", "Anna", "Lukas", "Sophie", "Leon",
    "Marie", "Finn", "Emilia", "Paul", "Hannah", "Jonas", "Lea", "Felix", "Lina", "Clara",
    "Elias", "Yuki", "Haruto", "Sakura", "Ren", "Aiko", "Mateo", "Lucía", "Hugo", "Camille",
    "Louis", "Inès", "Priya", "Arjun", "Aisha", "Omar", "Fatima", "Kai", "Maya", "Leila",
    "Tariq", "Nia", "Oscar", "Freya", "Aroha", "Nikau", "Chen", "Mei", "Wei", "Sofia", "Diego",
    "Valentina",
)  # fmt: skip
_LAST_NAMES = (
    "Bennett", "Carter", "Rodriguez", "Thompson", "Patel", "Nguyen", "Brooks", "Ramirez",
    "Johnson", "Walker", "Kim", "Rivera", "Foster", "Price", "Sullivan", "O'Connor", "Diaz",
    "Reed", "Morgan", "Coleman", "Tran", "Hayes", "Martinez", "Young", "Howard", "Flores",
    "Bryant", "Gray", "Washington", "Ortiz", "Jenkins", "Chen", "Simmons", "Murphy", "Müller",
    "Schmidt", "Schneider", "Fischer", "Weber", "Meyer", "Wagner", "Becker", "Hoffmann",
    "Schäfer", "Koch", "Bauer", "Richter", "Klein", "Wolf", "Schröder", "Tanaka", "Suzuki",
    "Sato", "Watanabe", "García", "Fernández", "López", "Martin", "Bernard", "Dubois", "Moreau",
    "Laurent", "Singh", "Khan", "Ali", "Smith", "Jones", "Williams", "Taylor", "Davies", "Evans",
    "Wilson", "Ngata", "Parata", "Wang", "Li", "Zhang", "Rossi", "Russo", "Silva",
)  # fmt: skip
# (specialty, weight): general practice is the bulk of any health system.
_SPECIALTIES = (
    ("General Practice", 30),
    ("Pediatrics", 10),
    ("Cardiology", 6),
    ("Dermatology", 6),
    ("Orthopedics", 6),
    ("Gynecology", 6),
    ("Neurology", 4),
    ("Psychiatry", 5),
    ("Endocrinology", 3),
    ("Ophthalmology", 4),
    ("ENT", 3),
    ("Gastroenterology", 3),
    ("Pulmonology", 2),
    ("Urology", 3),
    ("Oncology", 2),
)
# Morning and afternoon blocks, lunch between; each length divides by 15, 20 and 30.
_DAY_SHAPES = (
    ((time(8), time(12)), (time(13), time(17))),
    ((time(9), time(12)), (time(13), time(18))),
    ((time(7, 30), time(11, 30)), (time(12, 30), time(16, 30))),
    ((time(8), time(12)), (time(13), time(16))),
)
_SLOT_MINUTES = (15, 20, 30)
_SLOT_WEIGHTS = (3, 3, 4)


@dataclass(frozen=True, slots=True)
class ScaleClinic:
    index: int
    id: uuid.UUID
    name: str
    address: str
    city: City
    zone: ZoneInfo
    created_at: datetime


@dataclass(frozen=True, slots=True)
class ScaleDoctor:
    index: int
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    specialty: str
    slot_minutes: int
    clinics: tuple[int, ...]  # indices into World.clinics; the first is the main one
    day_shape: tuple[tuple[time, time], ...]
    created_at: datetime

    @property
    def email(self) -> str:
        return f"doctor{self.index + 1:04d}@{EMAIL_DOMAIN}"

    def clinic_on(self, weekday: int) -> int:
        """The clinic the doctor works at on an ISO weekday (Monday to Friday)."""
        if len(self.clinics) == 1 or weekday in FIRST_CLINIC_DAYS:
            return self.clinics[0]
        return self.clinics[1]

    def slot_starts(self) -> tuple[int, ...]:
        """Minutes after local midnight at which a slot starts, on every working day."""
        starts: list[int] = []
        for start, end in self.day_shape:
            minute, last = start.hour * 60 + start.minute, end.hour * 60 + end.minute
            while minute + self.slot_minutes <= last:
                starts.append(minute)
                minute += self.slot_minutes
        return tuple(starts)


@dataclass(frozen=True, slots=True)
class ScalePatient:
    index: int
    id: uuid.UUID
    user_id: uuid.UUID
    name: str
    date_of_birth: date
    phone: str
    sms_opt_in: bool
    email_opt_in: bool
    home_clinic: int
    created_at: datetime

    @property
    def email(self) -> str:
        return f"patient{self.index + 1:06d}@{EMAIL_DOMAIN}"


@dataclass(frozen=True, slots=True)
class World:
    clinics: tuple[ScaleClinic, ...]
    doctors: tuple[ScaleDoctor, ...]
    patients: tuple[ScalePatient, ...]
    admin_user_id: uuid.UUID
    admin_created_at: datetime


def build_world(*, doctors: int, patients: int, clinics: int, seed: int, now: datetime) -> World:
    if clinics < 1:
        raise ValueError("clinics must be at least 1")
    if doctors < clinics:
        raise ValueError("doctors must be at least clinics: every clinic needs a doctor")
    if patients < 1:
        raise ValueError("patients must be at least 1")
    rng = random.Random(f"medappt-scale:{seed}:world")
    # The organisation is six years old; people joined over the five years before the
    # appointments' window (which starts 365 days ago), so no one books before joining.
    founded = now - timedelta(days=6 * 365)
    people_from, people_until = now - timedelta(days=5 * 365), now - timedelta(days=430)

    clinic_rows = tuple(_clinic(index, rng, founded) for index in range(clinics))
    neighbours = _neighbours(clinic_rows, now)
    doctor_rows = tuple(
        _doctor(index, rng, clinic_rows, neighbours, _moment(rng, founded, people_until))
        for index in range(doctors)
    )
    # Patients register with a clinic in proportion to its doctors' working days there,
    # which keeps the doctors about equally busy.
    doctor_days = [0] * clinics
    for doctor in doctor_rows:
        for weekday in WEEKDAYS:
            doctor_days[doctor.clinic_on(weekday)] += 1
    homes = rng.choices(range(clinics), weights=doctor_days, k=patients)
    patient_rows = tuple(
        _patient(index, rng, clinic_rows[homes[index]], _moment(rng, people_from, people_until))
        for index in range(patients)
    )
    return World(
        clinics=clinic_rows,
        doctors=doctor_rows,
        patients=patient_rows,
        admin_user_id=scale_uuid(founded, rng),
        admin_created_at=founded,
    )


def _moment(rng: random.Random, start: datetime, end: datetime) -> datetime:
    seconds = int((end - start).total_seconds())
    return start + timedelta(seconds=rng.randrange(seconds), microseconds=rng.randrange(10**6))


def _clinic(index: int, rng: random.Random, founded: datetime) -> ScaleClinic:
    city = CITIES[index % len(CITIES)]
    kind = _CLINIC_KINDS[index // len(CITIES) % len(_CLINIC_KINDS)]
    name = f"{city.name} {kind}"
    if index >= len(CITIES) * len(_CLINIC_KINDS):
        name += f" {index // (len(CITIES) * len(_CLINIC_KINDS)) + 1}"
    created_at = founded + timedelta(days=index * 7)
    return ScaleClinic(
        index=index,
        id=scale_uuid(created_at, rng),
        name=name,
        address=f"{rng.randrange(1, 400)} {city.street}, {city.postcode}",
        city=city,
        zone=ZoneInfo(city.timezone),
        created_at=created_at,
    )


def _person_name(rng: random.Random) -> str:
    return f"{rng.choice(_FIRST_NAMES)} {rng.choice(_LAST_NAMES)}"


def _neighbours(clinics: tuple[ScaleClinic, ...], now: datetime) -> list[tuple[int, ...]]:
    """For each clinic, where its doctors may also work: the other clinics whose clocks are
    closest to its own all year round, if that is within ``_NEIGHBOUR_HOURS``.

    This is what keeps a doctor's appointments at two clinics apart. On a weekday a doctor
    works at one clinic only, between 07:30 and 18:00 local time, so two appointments on
    different local dates could only meet if the clinics' clocks were 13.5 hours apart.
    """
    seasons = (datetime(now.year, 1, 15, tzinfo=UTC), datetime(now.year, 7, 15, tzinfo=UTC))
    offsets = [
        [moment.astimezone(clinic.zone).utcoffset() or timedelta() for moment in seasons]
        for clinic in clinics
    ]

    def apart(a: int, b: int) -> timedelta:
        return max(abs(x - y) for x, y in zip(offsets[a], offsets[b], strict=True))

    neighbours: list[tuple[int, ...]] = []
    for clinic in range(len(clinics)):
        others = [other for other in range(len(clinics)) if other != clinic]
        nearest = min((apart(clinic, other) for other in others), default=_NEIGHBOUR_HOURS)
        if nearest > _NEIGHBOUR_HOURS:
            neighbours.append(())
        else:
            neighbours.append(tuple(o for o in others if apart(clinic, o) == nearest))
    return neighbours


def _doctor(
    index: int,
    rng: random.Random,
    clinics: tuple[ScaleClinic, ...],
    neighbours: list[tuple[int, ...]],
    created_at: datetime,
) -> ScaleDoctor:
    count = len(clinics)
    if index < count:
        # The first doctor of each clinic works there alone, every weekday, so that no
        # clinic is ever without a doctor.
        worked: tuple[int, ...] = (index,)
    else:
        main = rng.choices(range(count), weights=[c.city.weight for c in clinics])[0]
        worked = (main,)
        if index % SECOND_CLINIC_EVERY == 0 and neighbours[main]:
            worked += (rng.choice(neighbours[main]),)
    specialty = rng.choices(
        [name for name, _ in _SPECIALTIES], weights=[w for _, w in _SPECIALTIES]
    )[0]
    return ScaleDoctor(
        index=index,
        id=scale_uuid(created_at, rng),
        user_id=scale_uuid(created_at, rng),
        name=f"Dr. {_person_name(rng)}",
        specialty=specialty,
        slot_minutes=rng.choices(_SLOT_MINUTES, weights=_SLOT_WEIGHTS)[0],
        clinics=worked,
        day_shape=rng.choice(_DAY_SHAPES),
        created_at=created_at,
    )


def _patient(
    index: int, rng: random.Random, clinic: ScaleClinic, created_at: datetime
) -> ScalePatient:
    # Ages 0 to 95, a few more of them young adults and elderly, as in a clinic's waiting room.
    age_days = int(rng.triangular(0, 95 * 365.25, 40 * 365.25))
    digits = clinic.city.phone_digits
    return ScalePatient(
        index=index,
        id=scale_uuid(created_at, rng),
        user_id=scale_uuid(created_at, rng),
        name=_person_name(rng),
        date_of_birth=created_at.date() - timedelta(days=age_days),
        phone=f"{clinic.city.phone_prefix}{rng.randrange(10**digits):0{digits}d}",
        sms_opt_in=rng.random() < 0.85,
        email_opt_in=rng.random() < 0.92,
        home_clinic=clinic.index,
        created_at=created_at,
    )
