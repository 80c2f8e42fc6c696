"""A bad Date, DateTime, Time, Int, enum or ID is BAD_USER_INPUT naming the argument,
the same whether it is written in the document or sent in the variables."""

import json

import httpx
import pytest
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from tests.support.api import graphql

SOMEONE = "0193a000-0000-7000-8000-000000000000"  # a well-formed id of nothing

# (case, operation, field with VALUE where the value goes, variable type, value, message
# with the value in the variables, message with it in the document if that differs)
SLOTS = 'availableSlots(doctorId: "SOMEONE", date: VALUE) { available }'
RESCHEDULE = 'rescheduleAppointment(id: "SOMEONE", startsAt: VALUE) { id }'
NOT_A_DATETIME = "startsAt: not a valid date and time in ISO 8601 form with a UTC offset, e.g. 2026-03-02T09:00:00-05:00"
OUT_OF_RANGE = "must be between 1900-01-01 and 2200-12-31"
CASES = [
    ("date-month-13", "query", SLOTS, "Date!", "2026-13-45", "date: not a valid date in the form YYYY-MM-DD", None),
    ("date-feb-30", "query", SLOTS, "Date!", "2026-02-30", "date: not a valid date in the form YYYY-MM-DD", None),
    ("date-a-number", "query", SLOTS, "Date!", 20260302, "date: not a valid date in the form YYYY-MM-DD", None),
    ("date-9999", "query", SLOTS, "Date!", "9999-12-31", f"date: {OUT_OF_RANGE}", None),
    ("date-0001", "query", SLOTS, "Date!", "0001-01-01", f"date: {OUT_OF_RANGE}", None),
    ("schedule-date-9999", "query", 'doctorSchedule(doctorId: "SOMEONE", date: VALUE) { id }', "Date!",
     "9999-12-31", f"date: {OUT_OF_RANGE}", None),
    ("doctor-slots-0001", "query", 'doctor(id: "SOMEONE") { availableSlots(date: VALUE) { available } }', "Date!",
     "0001-01-01", f"date: {OUT_OF_RANGE}", None),
    ("datetime-a-word", "mutation", RESCHEDULE, "DateTime!", "tomorrow", NOT_A_DATETIME, None),
    ("datetime-offset-25h", "mutation", RESCHEDULE, "DateTime!", "2026-03-02T09:00:00-25:00", NOT_A_DATETIME, None),
    ("datetime-no-offset", "mutation", RESCHEDULE, "DateTime!", "2026-03-02T09:00:00", NOT_A_DATETIME, None),
    ("datetime-9999", "mutation", RESCHEDULE, "DateTime!", "9999-12-31T23:59:59-12:00", f"startsAt: {OUT_OF_RANGE}", None),
    ("time-25h", "mutation",
     'addScheduleTemplate(input: {doctorId: "SOMEONE", clinicId: "SOMEONE", dayOfWeek: 1, startTime: VALUE, endTime: "10:00"}) { id }',
     "Time!", "25:00", "input.startTime: not a valid time of day in the form HH:MM or HH:MM:SS, without a UTC offset", None),
    ("int-a-word", "query", "doctors(first: VALUE) { pageInfo { hasNextPage } }", "Int",
     "ten", "first: Int cannot represent non-integer value: 'ten'", 'first: Int cannot represent non-integer value: "ten"'),
    ("int-2-31", "query", "doctors(first: VALUE) { pageInfo { hasNextPage } }", "Int",
     2**31, "first: Int cannot represent non 32-bit signed integer value: 2147483648", None),
    ("int-10-12", "query", "doctors(first: VALUE) { pageInfo { hasNextPage } }", "Int",
     10**12, "first: Int cannot represent non 32-bit signed integer value: 1000000000000", None),
    ("enum-xray", "mutation",
     'requestRecordUpload(input: {patientId: "SOMEONE", recordType: VALUE, title: "t", fileName: "f.pdf", contentType: "application/pdf", sizeBytes: 1}) { uploadUrl }',
     "RecordType!", "XRAY", "input.recordType: Value 'XRAY' does not exist in 'RecordType' enum.", None),
    ("enum-status", "mutation", 'setAppointmentStatus(id: "SOMEONE", status: VALUE) { id }', "AppointmentStatus!",
     "DONE", "status: Value 'DONE' does not exist in 'AppointmentStatus' enum.", None),
    ("id-a-number", "query", "doctor(id: VALUE) { name }", "ID!", "42", "id: not a valid ID", None),
    ("id-in-a-list", "mutation",
     'createDoctor(input: {email: "d@example.test", password: "long enough", name: "D", specialty: "S", clinicIds: [VALUE]}) { id }',
     "ID!", "clinic-1", "input.clinicIds[0]: not a valid ID", None),
]  # fmt: skip


def _with(field: str, value: str) -> str:
    return field.replace("SOMEONE", SOMEONE).replace("VALUE", value)


def _literal(value: object) -> str:
    """The value written in a GraphQL document; enum values go bare."""
    if isinstance(value, str) and value.isalpha() and value.isupper():
        return value
    return json.dumps(value)


@pytest.mark.parametrize(
    ("operation", "field", "type_", "value", "message", "inline_message"),
    [pytest.param(*case[1:], id=case[0]) for case in CASES],
)
async def test_bad_scalars_in_variables_and_in_the_document(
    client: httpx.AsyncClient,
    sessions: async_sessionmaker[AsyncSession],
    operation: str, field: str, type_: str, value: object, message: str, inline_message: str | None,
) -> None:  # fmt: skip
    in_variables = await graphql(
        client, f"{operation} Q($value: {type_}) {{ {_with(field, '$value')} }}", {"value": value}
    )
    in_document = await graphql(client, f"{operation} {{ {_with(field, _literal(value))} }}")

    for body, expected in ((in_variables, message), (in_document, inline_message or message)):
        assert not any((body.get("data") or {}).values())
        assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
            (expected, "BAD_USER_INPUT")
        ]


async def test_a_missing_required_variable_names_the_argument(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    query = f'query Q($day: Date!) {{ availableSlots(doctorId: "{SOMEONE}", date: $day) {{ available }} }}'

    body = await graphql(client, query, {})

    assert body["data"] is None
    assert body["errors"] == [
        {
            "message": "date: Expected a value of non-null type 'Date!' to be provided.",
            "locations": [{"line": 1, "column": 9}],
            "extensions": {"code": "BAD_USER_INPUT"},
        }
    ]


async def test_an_unknown_input_field_in_the_variables_is_named_without_echoing_the_input(
    client: httpx.AsyncClient, sessions: async_sessionmaker[AsyncSession]
) -> None:
    query = "mutation R($input: RegisterPatientInput!) { registerPatient(input: $input) { accessToken } }"
    secret = {
        "email": "ann@example.test",
        "password": "Zq-secret-password",
        "name": "Ann",
        "nickname": "A",
    }

    body = await graphql(client, query, {"input": secret})

    assert [(e["message"], e["extensions"]["code"]) for e in body["errors"]] == [
        (
            "input: Expected value of type 'RegisterPatientInput' not to include unknown field"
            " 'nickname'. Did you mean 'name'?",
            "BAD_USER_INPUT",
        )
    ]
