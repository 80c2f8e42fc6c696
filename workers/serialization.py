"""Jobs travel as JSON: readable in Redis, and no pickle to execute on load."""

import json
from typing import Any


def serialize_job(job: dict[str, Any]) -> bytes:
    return json.dumps(job, separators=(",", ":"), default=str).encode()


def deserialize_job(data: bytes) -> dict[str, Any]:
    result: dict[str, Any] = json.loads(data)
    return result
