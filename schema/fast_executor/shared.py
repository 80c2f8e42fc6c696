"""Plans kept from one request to the next, for documents whose fields do not depend on
variables (schema/fast_executor).

A selection set's fields depend on the request only through ``@include``, ``@skip``,
``@defer`` and ``@stream`` (with a variable or not) and fragment arguments. A document
with none of them has the same fields in every request, and the document itself is the
same object from one request to the next (``schema.limits.parsing`` caches it), so its
plans are made once, keyed by the ids of its field nodes, which the entry keeps alive.
Making them was 3 to 5 % of a cached slot read's, a booking's and the records query's
CPU (``python -m bench.request_cpu --py-spy``).
"""

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from graphql import (
    FragmentDefinitionNode,
    GraphQLSchema,
    OperationDefinitionNode,
    SelectionSetNode,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet

# Documents kept at most; the parse cache keeps 256.
MAX_DOCUMENTS = 512

NodesKey = tuple[int, ...]


@dataclass(slots=True)
class SharedPlans:
    """The plans of one document's operation on one schema; values are the executor's.
    ``fixed`` is False when its fields may depend on the request: then it keeps no plan,
    only that verdict, so the document is not walked again at every request."""

    schema: GraphQLSchema
    operation: OperationDefinitionNode
    fragments: tuple[FragmentDefinitionNode, ...]  # kept alive with the operation
    fixed: bool
    plans: dict[tuple[Any, NodesKey], Any] = field(default_factory=dict)
    values: dict[tuple[Any, NodesKey], Any] = field(default_factory=dict)


_DOCUMENTS: dict[tuple[int, int], SharedPlans] = {}


def shared_plans(
    schema: GraphQLSchema,
    operation: OperationDefinitionNode,
    fragments: Iterable[FragmentDefinitionNode],
) -> SharedPlans | None:
    """The operation's plans, kept across requests; None when its fields may depend on
    the request (planned per request, as before)."""
    key = (id(schema), id(operation))
    entry = _DOCUMENTS.get(key)
    if entry is None or entry.schema is not schema or entry.operation is not operation:
        definitions = tuple(fragments)
        if len(_DOCUMENTS) >= MAX_DOCUMENTS:
            del _DOCUMENTS[next(iter(_DOCUMENTS))]  # the oldest
        fixed = _fields_fixed(operation, definitions)
        entry = _DOCUMENTS[key] = SharedPlans(schema, operation, definitions, fixed)
    return entry if entry.fixed else None


def _fields_fixed(
    operation: OperationDefinitionNode, fragments: tuple[FragmentDefinitionNode, ...]
) -> bool:
    """No directive on any field, spread or inline fragment, no fragment arguments."""
    if any(fragment.variable_definitions for fragment in fragments):
        return False
    pending: list[SelectionSetNode | None] = [operation.selection_set]
    pending += [fragment.selection_set for fragment in fragments]
    while pending:
        selection_set = pending.pop()
        if selection_set is None:
            continue
        for selection in selection_set.selections:
            if selection.directives:
                return False
            pending.append(getattr(selection, "selection_set", None))
    return True


def set_key(grouped_field_set: GroupedFieldSet) -> NodesKey:
    """A selection set's fields, by the nodes they come from (which give their names)."""
    return tuple(id(item.node) for details in grouped_field_set.values() for item in details)


def details_key(details: FieldDetailsList) -> NodesKey:
    return tuple(id(item.node) for item in details)
