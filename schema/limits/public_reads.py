"""Whether an operation reads only public data: the root fields anyone may ask for
(contract, "Who may do what"), which an anonymous GET may have cached for everyone."""

from functools import lru_cache

from graphql import (
    FieldNode,
    FragmentSpreadNode,
    GraphQLError,
    InlineFragmentNode,
    OperationType,
    SelectionSetNode,
    get_operation_ast,
)

from schema.limits.fragments import fragment_definitions
from schema.limits.parsing import parse_document
from services.request_record import ANONYMOUS

PUBLIC_ROOT_FIELDS = frozenset(
    {"clinics", "doctors", "doctor", "availableSlots", "searchSlots", "__typename"}
)


@lru_cache(maxsize=256)
def public_operation(query: str, operation_name: str | None) -> str | None:
    """The name of the operation (``anonymous`` when unnamed) when it is a query whose
    root fields, through every fragment, are all public; else None. A document that does
    not parse, or names no such operation, is not public: it is answered with its errors,
    which are never cached."""
    try:
        document = parse_document(query)
    except GraphQLError:
        return None
    operation = get_operation_ast(document, operation_name)
    if operation is None or operation.operation != OperationType.QUERY:
        return None
    fragments = fragment_definitions(document)
    seen: set[str] = set()
    pending: list[SelectionSetNode] = [operation.selection_set]
    while pending:
        for selection in pending.pop().selections:
            if isinstance(selection, FieldNode):
                if selection.name.value not in PUBLIC_ROOT_FIELDS:
                    return None
            elif isinstance(selection, InlineFragmentNode):
                pending.append(selection.selection_set)
            elif isinstance(selection, FragmentSpreadNode):
                name = selection.name.value
                if name not in fragments:
                    return None
                if name not in seen:  # each fragment once, however often spread
                    seen.add(name)
                    pending.append(fragments[name].selection_set)
    return operation.name.value if operation.name else ANONYMOUS
