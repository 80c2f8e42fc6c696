"""How many fields each of the executor's ways has filled (schema/fast_executor)."""

from dataclasses import dataclass


@dataclass(slots=True)
class FieldCounts:
    """Fields filled by a plain read, by a direct call and by graphql-core's
    execute_field, since start: tests read them to see which path is taken."""

    plain: int = 0
    direct: int = 0
    resolved: int = 0


FIELD_COUNTS = FieldCounts()
