"""How many fields each of the executor's ways has filled, and how many plans it has made
(schema/fast_executor)."""

from dataclasses import dataclass


@dataclass(slots=True)
class FieldCounts:
    """Fields filled by a plain read, by a direct call and by graphql-core's
    execute_field, selection sets planned, plans compiled and the objects their functions
    filled, since start: tests read them to see which path is taken and what is made
    again."""

    plain: int = 0  # compiled functions' fields included
    direct: int = 0
    resolved: int = 0
    plans: int = 0
    compiled_plans: int = 0
    compiled_objects: int = 0

    def add_compiled(self, tally: list[int]) -> None:
        """What a compiled function filled: [fields, objects] (compiled.py)."""
        self.plain += tally[0]
        self.compiled_objects += tally[1]


FIELD_COUNTS = FieldCounts()
