"""Demo data for `medappt dev`: clinics, doctors, patients, appointments and their documents."""

from devtools.demo.data import DEMO_PASSWORDS, demo_logins
from devtools.demo.seed import DemoSummary, load_demo_data

__all__ = ["DEMO_PASSWORDS", "DemoSummary", "demo_logins", "load_demo_data"]
