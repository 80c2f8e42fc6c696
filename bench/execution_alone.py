"""``python -m bench.execution_alone``: GraphQL execution alone, fast executor against
graphql-core's own, over the records query's objects held in memory.

The product's types (``Connection[MedicalRecord]``, ``Edge``, ``Doctor``) filled with
50 records, their ORM rows and a doctor, served by a query type; the document is the
bench's records selection (bench/records/query.py) under that field, parsed once. The
last row is the slots bench's query: a day of 30 ``Slot`` objects (with their clinic)
returned by a root field with arguments, as ``Query.availableSlots`` returns them. Each
record holds its link already issued, as a page read again holds reused ones. No database,
Redis, HTTP, door or audit: only what graphql-core (and Strawberry's resolver wrappers)
cost, in CPU time of this process.
"""

import argparse
import asyncio
import statistics
import time
import uuid
from collections.abc import Sequence
from datetime import UTC, date, datetime, timedelta
from typing import Any

import graphql
import strawberry
from graphql.execution import MiddlewareManager
from strawberry.execution.is_awaitable import optimized_is_awaitable
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from db import models
from db.enums import RecordType
from domain.pagination import Cursor
from schema.fast_executor import FastExecutor
from schema.scalars import SCALAR_OVERRIDES
from schema.types.clinic import Clinic
from schema.types.connection import Connection, Edge, PageInfo
from schema.types.doctor import Doctor, Slot
from schema.types.record import MedicalRecord

RECORDS = 50
SLOTS = 30
SELECTION = "{ id title recordType uploadedAt doctor { name } documentUrl }"
SHAPES = {
    label: f"{{ records {{ edges {{ node {text} }} }} }}"
    for label, text in {
        "records query (7 fields a record)": SELECTION,
        "without documentUrl": SELECTION.replace(" documentUrl", ""),
        "scalars only": SELECTION.replace(" doctor { name } documentUrl", ""),
    }.items()
}
SHAPES[f"availableSlots ({SLOTS} slots)"] = (
    '{ availableSlots(doctorId: "d", date: "2026-01-05") '
    "{ startsAt endsAt available clinic { id } } }"
)
EXECUTORS: dict[str, type[Any]] = {
    "standard": StrawberryGraphQLCoreExecutionContext,
    "fast": FastExecutor,
}


def _records() -> list[MedicalRecord]:
    doctor = models.Doctor(id=uuid.uuid4(), user_id=uuid.uuid4(), name="Dr. Bench", specialty="-")
    patient_id = uuid.uuid4()
    records = []
    for n in range(RECORDS):
        record_id = uuid.uuid4()
        row = models.MedicalRecord(
            id=record_id,
            patient_id=patient_id,
            record_type=RecordType.LAB_REPORT,
            title=f"Report {n:03}",
            file_name=f"report {n:03}.pdf",
            content_type="application/pdf",
            size_bytes=10_000 + n,
            s3_key=f"patients/{patient_id}/{record_id}/report_{n:03}.pdf",
            uploaded_at=datetime(2026, 1, 1, tzinfo=UTC) + timedelta(hours=n),
        )
        # A link already issued, as a page reads it again: no signing.
        link = f"https://storage.example/{row.s3_key}?signature=reused"
        records.append(MedicalRecord.from_model(row, Doctor.from_model(doctor), link))
    return records


RECORD_OBJECTS = _records()


def _slots() -> list[Slot]:
    clinic = Clinic.from_model(
        models.Clinic(
            id=uuid.uuid4(), name="Bench", address=None, timezone="UTC", cancellation_cutoff_hours=0
        )
    )
    start = datetime(2026, 1, 5, 8, tzinfo=UTC)
    return [
        Slot(
            starts_at=start + timedelta(minutes=20 * n),
            ends_at=start + timedelta(minutes=20 * n + 20),
            available=n % 3 != 0,
            clinic=clinic,
            doctor_id=uuid.uuid4(),
        )
        for n in range(SLOTS)
    ]


SLOT_OBJECTS = _slots()


@strawberry.type
class Query:
    @strawberry.field
    async def records(self) -> Connection[MedicalRecord]:
        edges = [Edge(node=record, row=record, cursor_of=_cursor) for record in RECORD_OBJECTS]
        page_info = PageInfo(has_next_page=False, last_row=None, cursor_of=_cursor)
        return Connection(edges=edges, page_info=page_info)

    @strawberry.field
    async def available_slots(self, doctor_id: strawberry.ID, date: date) -> list[Slot]:
        return list(SLOT_OBJECTS)


def _cursor(record: MedicalRecord) -> Cursor:
    return Cursor(record.uploaded_at, str(record.id))


async def _execute(
    schema: graphql.GraphQLSchema, document: graphql.DocumentNode, executor: type[Any]
) -> None:
    result = await graphql.execute(  # type: ignore[misc]
        schema,
        document,
        middleware=MiddlewareManager(),
        is_awaitable=optimized_is_awaitable,  # type: ignore[arg-type]
        executor_class=executor,
    )
    if result.errors:
        raise RuntimeError(result.errors)


async def run(executions: int, rounds: int) -> None:
    schema = strawberry.Schema(query=Query, scalar_overrides=SCALAR_OVERRIDES)._schema
    print("| selection | standard ms | fast ms | fast / standard |")
    print("|---|---:|---:|---:|")
    for label, text in SHAPES.items():
        document = graphql.parse(text)
        best: dict[str, list[float]] = {name: [] for name in EXECUTORS}
        for _ in range(rounds):
            for name, executor in EXECUTORS.items():
                start = time.process_time()
                for _ in range(executions):
                    await _execute(schema, document, executor)
                best[name].append((time.process_time() - start) / executions * 1e3)
        standard, fast = (statistics.median(best[name]) for name in ("standard", "fast"))
        print(f"| {label} | {standard:.3f} | {fast:.3f} | {fast / standard:.2f} |")


def main(argv: Sequence[str] | None = None) -> None:
    parser = argparse.ArgumentParser(prog="python -m bench.execution_alone", description=__doc__)
    parser.add_argument("--executions", type=int, default=100, help="per round and executor")
    parser.add_argument("--rounds", type=int, default=15, help="the median round is shown")
    args = parser.parse_args(argv)
    asyncio.run(run(args.executions, args.rounds))


if __name__ == "__main__":
    main()
