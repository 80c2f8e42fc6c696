"""A production-sized data set for benchmarks: `seed_scale` fills a fresh database by COPY."""

from devtools.scale.seed import ScaleSeedRefused, ScaleSummary, seed_scale
from devtools.scale.world import ADMIN_EMAIL, EMAIL_DOMAIN, SCALE_PASSWORD

__all__ = [
    "ADMIN_EMAIL",
    "EMAIL_DOMAIN",
    "SCALE_PASSWORD",
    "ScaleSeedRefused",
    "ScaleSummary",
    "seed_scale",
]
