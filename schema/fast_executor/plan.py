"""The plan of a selection set: how each of its fields is filled (schema/fast_executor)."""

from collections.abc import Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from graphql import (
    FieldNode,
    GraphQLField,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

from schema.fast_executor.counts import FIELD_COUNTS
from schema.fast_executor.values import serializer

# Directives graphql-core has applied by the time fields are grouped.
_COLLECTION_DIRECTIVES = frozenset({"include", "skip"})
# The wrappers Strawberry puts around a field's function (schema_converter.from_resolver).
_STRAWBERRY_RESOLVERS = frozenset({"_resolver", "_async_resolver"})
_BASIC_RESOLVER = "_get_basic_result"


class Shape(IntEnum):
    RESOLVED = 0  # graphql-core's execute_field
    DIRECT = 1
    TYPENAME = 2
    LEAF = 3
    LEAF_LIST = 4
    OBJECT = 5
    OBJECT_LIST = 6


@dataclass(slots=True)
class Plan:
    steps: "list[Step]"
    attributes: tuple[str, ...]  # read by the plain steps
    # Per class of source object: whether each plain attribute reads from __dict__.
    readable: dict[type, bool] = field(default_factory=dict)
    # Kept across requests (shared.py), so worth compiling (compiled.py): the function,
    # once tried, when every field under the plan is a plain read.
    kept: bool = False
    compile_tried: bool = False
    compiled: Callable[[Any, list[int]], Any] | None = None

    def reads_instance_dict(self, cls: type) -> bool:
        known = self.readable.get(cls)
        if known is None:
            known = self.readable[cls] = all(
                _instance_attribute(cls, name) for name in self.attributes
            )
        return known


@dataclass(slots=True)
class Step:
    """How one response key of a selection set is filled."""

    response_name: str
    field_details_list: FieldDetailsList
    shape: Shape
    field_def: GraphQLField | None = None
    # How a value of the field's type is completed without graphql-core: LEAF,
    # LEAF_LIST, OBJECT or OBJECT_LIST; None for graphql-core's complete_value.
    completion: Shape | None = None
    attribute: str = ""  # plain reads: the Python attribute
    named_type: Any = None  # under the NonNull and List wrappers
    serialize: Callable[[Any], Any] | None = None  # leaves: named_type's serializer
    non_null: bool = False
    item_non_null: bool = False
    # Direct calls: the function, and how Strawberry would pass self and info; the
    # field's nodes and Strawberry field, which every info of the step holds.
    function: Callable[..., Any] | None = None
    passes_self: bool = False
    info_name: str | None = None
    nodes: list[FieldNode] = field(default_factory=list)
    strawberry_field: StrawberryField | None = None
    # Objects: their selection set and its plan, made at first use.
    sub_fields: GroupedFieldSet | None = None
    sub_plan: Plan | None = None


def _instance_attribute(cls: type, name: str) -> bool:
    """Whether ``getattr(obj, name)`` is ``obj.__dict__[name]`` whenever the key is there:
    no descriptor (property, slot, ORM attribute) and no custom attribute lookup."""
    if cls.__getattribute__ is not object.__getattribute__:  # type: ignore[comparison-overlap]
        return False
    for klass in cls.__mro__:
        if name in klass.__dict__:
            return not hasattr(type(klass.__dict__[name]), "__get__")
    return True


def _unwrap(type_: GraphQLOutputType) -> tuple[bool, GraphQLOutputType]:
    if isinstance(type_, GraphQLNonNull):
        return True, type_.of_type
    return False, type_


def strawberry_field_of(field_def: GraphQLField) -> StrawberryField | None:
    found = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    return found if isinstance(found, StrawberryField) else None


def _resolver_name(field_def: GraphQLField) -> str | None:
    return getattr(field_def.resolve, "__name__", None)


def _completion(step: Step) -> Step:
    """Sets how the field's values are completed, by the shape of its type."""
    field_def = step.field_def
    assert field_def is not None
    non_null, type_ = _unwrap(field_def.type)
    step.non_null = non_null
    step.named_type = type_
    if is_leaf_type(type_):
        step.completion = Shape.LEAF
        step.serialize = serializer(type_)
    elif is_object_type(type_) and type_.is_type_of is None:
        step.completion = Shape.OBJECT
    elif isinstance(type_, GraphQLList):
        item_non_null, item_type = _unwrap(type_.of_type)
        step.item_non_null = item_non_null
        step.named_type = item_type
        if is_leaf_type(item_type):
            step.completion = Shape.LEAF_LIST
            step.serialize = serializer(item_type)
        elif is_object_type(item_type) and item_type.is_type_of is None:
            step.completion = Shape.OBJECT_LIST
    return step


def _plain_step(step: Step, strawberry_field: StrawberryField) -> Step:
    """A basic field (Strawberry's default getter): read, when its type allows."""
    _completion(step)
    if step.completion is not None:
        step.shape = step.completion
        step.attribute = strawberry_field.python_name
    return step


def _direct_step(step: Step, strawberry_field: StrawberryField) -> Step:
    """A resolver that takes at most ``self`` and ``info``: called without the wrapper."""
    resolver = strawberry_field.base_resolver
    assert resolver is not None
    if resolver.root_parameter or resolver.parent_parameter or not callable(resolver.wrapped_func):
        return step
    _completion(step)
    step.shape = Shape.DIRECT
    step.function = resolver.wrapped_func
    step.passes_self = resolver.self_parameter is not None
    step.info_name = resolver.info_parameter.name if resolver.info_parameter else None
    step.nodes = to_nodes(step.field_details_list)
    step.strawberry_field = strawberry_field
    return step


def make_step(  # noqa: PLR0911  (one return per kind of field)
    parent_type: GraphQLObjectType, name: str, details: FieldDetailsList, handlers: bool
) -> Step:
    """``handlers``: the schema has exception handlers, which only the wrapper applies."""
    node = details[0].node
    step = Step(name, details, Shape.RESOLVED)
    if any(
        directive.name.value not in _COLLECTION_DIRECTIVES
        for item in details
        for directive in item.node.directives or ()
    ):
        return step
    if node.name.value == "__typename":
        step.shape = Shape.TYPENAME
        return step
    field_def = parent_type.fields.get(node.name.value)
    if field_def is None or node.arguments or field_def.args or handlers:
        return step
    strawberry_field = strawberry_field_of(field_def)
    if (
        strawberry_field is None
        or strawberry_field.extensions
        or strawberry_field.default_resolver is not getattr
    ):
        return step
    step.field_def = field_def
    resolver_name = _resolver_name(field_def)
    if strawberry_field.base_resolver is None and resolver_name == _BASIC_RESOLVER:
        return _plain_step(step, strawberry_field)
    if (
        strawberry_field.base_resolver is not None
        and not strawberry_field.arguments
        and resolver_name in _STRAWBERRY_RESOLVERS
    ):
        return _direct_step(step, strawberry_field)
    return step


def planned_value(
    return_type: GraphQLOutputType, details: FieldDetailsList
) -> tuple[GraphQLObjectType, GraphQLOutputType | None] | None:
    """The object type whose plan completes a value of ``return_type`` and, for a list,
    its item type (NonNull kept); None for graphql-core's ``complete_value``: leaf and
    abstract types, nested lists, an ``is_type_of`` check, a list that may be streamed."""
    _, type_ = _unwrap(return_type)
    item_type: GraphQLOutputType | None = None
    if isinstance(type_, GraphQLList):
        if any(
            directive.name.value == "stream"
            for item in details
            for directive in item.node.directives or ()
        ):
            return None
        item_type = type_.of_type
        _, type_ = _unwrap(item_type)
    if not is_object_type(type_) or type_.is_type_of is not None:
        return None
    return type_, item_type


def make_plan(
    parent_type: GraphQLObjectType,
    grouped_field_set: GroupedFieldSet,
    handlers: bool,
    *,
    kept: bool = False,
) -> Plan:
    FIELD_COUNTS.plans += 1
    steps = [
        make_step(parent_type, name, details, handlers)
        for name, details in grouped_field_set.items()
    ]
    attributes = {step.attribute for step in steps if step.shape >= Shape.LEAF}
    return Plan(steps=steps, attributes=tuple(attributes), kept=kept)
