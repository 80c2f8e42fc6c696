"""graphql-core's executor without its per-field cost where a field only reads an
attribute or calls a resolver that needs nothing of Strawberry's machinery: see
``executor.py``; ``plan.py`` sorts a selection set's fields."""

from schema.fast_executor.executor import FIELD_COUNTS, FastExecutor, FieldCounts

__all__ = ["FIELD_COUNTS", "FastExecutor", "FieldCounts"]
