"""The data the dashboard's load runs on: the demo data set (10 doctors at 3 clinics,
50 patients with their records and documents), in a fresh database."""

import uuid
from collections.abc import Mapping

from db.enums import Role
from db.migrate import upgrade_async
from devtools.demo import load_demo_data
from devtools.demo.data import DOCTORS, PATIENTS, DemoPatient
from services.auth.tokens import TokenService
from services.container import open_services
from services.settings import load_settings
from services.storage import ensure_bucket


async def seed(environment: Mapping[str, str]) -> None:
    settings = load_settings(environment)
    await upgrade_async(settings.require_database_url())
    async with open_services(settings) as services:
        await ensure_bucket(services.s3, settings.s3_bucket)
        await load_demo_data(services.sessions, services.s3, settings.s3_bucket)


def patient_token(tokens: TokenService, patient: DemoPatient) -> str:
    """Minted with the server's own key, as a login would (no password hashing)."""
    token, _ = tokens.issue_access(
        user_id=patient.user_id, role=Role.PATIENT, family_id=uuid.uuid4(), patient_id=patient.id
    )
    return token


DOCTOR_IDS = tuple(str(doctor.id) for doctor in DOCTORS)
__all__ = ["DOCTOR_IDS", "PATIENTS", "patient_token", "seed"]
