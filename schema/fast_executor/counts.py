"""How many fields each of the executor's ways has filled, and how many plans it has made
(schema/fast_executor)."""

from dataclasses import dataclass


@dataclass(slots=True)
class FieldCounts:
    """Fields filled by a plain read, by a direct call and by graphql-core's
    execute_field, and selection sets planned, since start: tests read them to see
    which path is taken and what is made again."""

    plain: int = 0
    direct: int = 0
    resolved: int = 0
    plans: int = 0


FIELD_COUNTS = FieldCounts()
