"""In prod no error suggests a name of the schema; in dev the same documents do."""

import dataclasses
import json
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from services.auth.keys import generate_signing_key
from services.settings import Settings
from tests.support.api import graphql, serving

REGISTER = (
    "mutation R($input: RegisterPatientInput!) { registerPatient(input: $input) { expiresIn } }"
)
STATUSES = "query A($id: ID!, $s: [AppointmentStatus!]) { patient(id: $id) { appointments(status: $s) { edges { cursor } } } }"
_REGISTRATION = {"email": "a@example.test", "password": "long enough", "name": "A"}

CASES: list[tuple[str, str, dict[str, Any]]] = [
    ("field", "{ clinics { nam } }", {}),
    ("argument", "{ doctors(firs: 1) { edges { cursor } } }", {}),
    ("type", "query Q($d: Dat!) { __typename }", {}),
    ("enum value", 'mutation { setAppointmentStatus(id: "x", status: COMPLETE) { id } }', {}),
    (
        "input field",
        'mutation { registerPatient(input: {emial: "a@example.test", password: "long enough",'
        ' name: "A"}) { expiresIn } }',
        {},
    ),
    ("enum value in variables", STATUSES, {"id": "x", "s": ["SCHEDULE"]}),
    ("input field in variables", REGISTER, {"input": {**_REGISTRATION, "nam": "A"}}),
]


@pytest.fixture(scope="module")
async def prod_url(settings: Settings, api_url: str) -> AsyncIterator[str]:
    key = json.dumps(generate_signing_key().as_dict(private=True))
    prod = dataclasses.replace(settings, env="prod", jwt_private_key=key)
    async with serving(prod) as url:
        yield url


def _messages(body: dict[str, Any]) -> list[str]:
    return [error["message"] for error in body.get("errors", [])]


@pytest.mark.parametrize(("what", "document", "variables"), CASES, ids=[c[0] for c in CASES])
async def test_prod_suggests_no_names_where_dev_does(
    client: httpx.AsyncClient,
    prod_url: str,
    what: str,
    document: str,
    variables: dict[str, Any],
) -> None:
    dev = await graphql(client, document, variables)
    async with httpx.AsyncClient(base_url=prod_url, timeout=30) as http:
        prod = await graphql(http, document, variables)

    assert any("Did you mean" in message for message in _messages(dev)), dev
    assert _messages(prod), prod
    assert not any("Did you mean" in message for message in _messages(prod)), prod
    assert [e["extensions"]["code"] for e in prod["errors"]] == ["BAD_USER_INPUT"] * len(
        prod["errors"]
    )
