"""The GraphQL documents the scheduling bench sends, and how an answer is classified."""

import json
from typing import Any

from bench.load import OK, Request

SLOTS_QUERY = """query Slots($doctorId: ID!, $date: Date!) {
  availableSlots(doctorId: $doctorId, date: $date) { startsAt endsAt available clinic { id } }
}"""
BOOK_MUTATION = """mutation Book($input: BookAppointmentInput!) {
  bookAppointment(input: $input) { id status startsAt }
}"""
CANCEL_MUTATION = """mutation Cancel($id: ID!) {
  cancelAppointment(id: $id, reason: "benchmark clean-up") { id status }
}"""

SLOT_UNAVAILABLE = "SLOT_UNAVAILABLE"


def graphql_request(query: str, variables: dict[str, Any], token: str) -> Request:
    return Request(
        body=json.dumps({"query": query, "variables": variables}).encode(),
        headers={"Content-Type": "application/json", "Authorization": f"Bearer {token}"},
    )


def error_outcome(status: int, body: bytes) -> str:
    """``OK`` for a 200 without errors; otherwise the first error's code (and message)."""
    if status == 200 and b'"errors"' not in body:
        return OK
    try:
        errors = json.loads(body).get("errors") or []
    except (ValueError, AttributeError):
        return f"HTTP {status}"
    if not errors:
        return f"HTTP {status}"
    first = errors[0]
    code = str((first.get("extensions") or {}).get("code", "no code"))
    return f"{code}: {first.get('message', '')}" if code == SLOT_UNAVAILABLE else code


def slots_classify(_: int, status: int, body: bytes) -> str:
    return error_outcome(status, body)
