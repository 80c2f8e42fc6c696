"""graphql-core's executor without its per-field cost where a field only reads an attribute.

graphql-core runs every field the same way: a ``Path``, a ``GraphQLResolveInfo`` (and
Strawberry's ``Info``), the resolver, then ``complete_value`` walking the type's
wrappers. For a field that Strawberry resolves with its default getter (a dataclass
field: no resolver, no permission classes, no field extensions), all of that reads one
attribute. :class:`FastExecutor` plans each selection set once per request (which
fields are such plain reads, and of what shape: a scalar or enum, a list of them, an
object, a list of objects) and then, per object, reads the attribute from the
instance's ``__dict__`` and serializes it with the same ``coerce_output_value``.

Everything else goes through graphql-core's own ``execute_field``: resolvers (root
fields, relations, permission classes, audit rows), arguments, abstract types,
``is_type_of``, directives. A plain read that would not give a value graphql-core would
accept as it is (an attribute missing from ``__dict__``, a null for a non-null type, a
value the scalar refuses, a list holding nulls) is handed, unchanged, to
``execute_field`` too: reading it again is harmless (no side effect), and then the error,
its message, path, location and null bubbling are graphql-core's own. Fields run in the
order of the selection set, depth first, as graphql-core runs them, so that errors and
loader calls come in the same order. With middleware (an extension's ``resolve`` hook:
traced resolvers) or an abort signal, every field runs the ordinary way.
"""

from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from enum import IntEnum
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLList,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
    is_leaf_type,
    is_object_type,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext
from strawberry.schema.schema_converter import GraphQLCoreConverter
from strawberry.types.field import StrawberryField

# Directives graphql-core has applied by the time fields are grouped.
_COLLECTION_DIRECTIVES = frozenset({"include", "skip"})
_MISSING = object()


class Shape(IntEnum):
    RESOLVED = 0  # graphql-core's execute_field
    TYPENAME = 1
    LEAF = 2
    LEAF_LIST = 3
    OBJECT = 4
    OBJECT_LIST = 5


@dataclass(frozen=True, slots=True)
class Step:
    """How one response key of a selection set is filled."""

    response_name: str
    field_details_list: FieldDetailsList
    shape: Shape
    attribute: str = ""
    return_type: Any = None  # the field's type, wrappers and all
    # The named type under the wrappers, and which wrappers there are.
    named_type: Any = None
    non_null: bool = False
    item_non_null: bool = False


@dataclass(slots=True)
class Plan:
    steps: list[Step]
    attributes: tuple[str, ...]  # read by the plain steps
    plain_steps: int
    # Per class of source object: whether each plain attribute reads from __dict__.
    readable: dict[type, bool] = field(default_factory=dict)

    def reads_instance_dict(self, cls: type) -> bool:
        known = self.readable.get(cls)
        if known is None:
            known = self.readable[cls] = all(
                _instance_attribute(cls, name) for name in self.attributes
            )
        return known


@dataclass(slots=True)
class FieldCounts:
    """Fields filled by a plain read and by graphql-core's execute_field, since start:
    a test reads them to see that the plain path is taken."""

    plain: int = 0
    resolved: int = 0


FIELD_COUNTS = FieldCounts()


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


def _is_plain(field_def: Any) -> str | None:
    """The attribute a field reads, when Strawberry resolves it with its default getter."""
    strawberry_field = (field_def.extensions or {}).get(GraphQLCoreConverter.DEFINITION_BACKREF)
    resolve = field_def.resolve
    if (
        not isinstance(strawberry_field, StrawberryField)
        or not strawberry_field.is_basic_field
        or strawberry_field.default_resolver is not getattr
        or field_def.args
        # The wrapper Strawberry gives a basic field without exception handlers.
        or getattr(resolve, "__name__", None) != "_get_basic_result"
    ):
        return None
    return strawberry_field.python_name


def _step(  # noqa: PLR0911  (one return per shape)
    parent_type: GraphQLObjectType, name: str, details: FieldDetailsList
) -> Step:
    node = details[0].node
    resolved = Step(name, details, Shape.RESOLVED)
    if any(
        directive.name.value not in _COLLECTION_DIRECTIVES
        for item in details
        for directive in item.node.directives or ()
    ):
        return resolved
    if node.name.value == "__typename":
        return Step(name, details, Shape.TYPENAME)
    field_def = parent_type.fields.get(node.name.value)
    if field_def is None or node.arguments:
        return resolved
    attribute = _is_plain(field_def)
    if attribute is None:
        return resolved
    non_null, type_ = _unwrap(field_def.type)
    if is_leaf_type(type_):
        return Step(name, details, Shape.LEAF, attribute, field_def.type, type_, non_null)
    if is_object_type(type_) and type_.is_type_of is None:
        return Step(name, details, Shape.OBJECT, attribute, field_def.type, type_, non_null)
    if isinstance(type_, GraphQLList):
        item_non_null, item_type = _unwrap(type_.of_type)
        shape = (
            Shape.LEAF_LIST
            if is_leaf_type(item_type)
            else Shape.OBJECT_LIST
            if is_object_type(item_type) and item_type.is_type_of is None
            else None
        )
        if shape is not None:
            return Step(
                name, details, shape, attribute, field_def.type, item_type, non_null, item_non_null
            )
    return resolved


def make_plan(parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> Plan:
    steps = [_step(parent_type, name, details) for name, details in grouped_field_set.items()]
    plain = [step for step in steps if step.shape >= Shape.LEAF]
    return Plan(
        steps=steps,
        attributes=tuple({step.attribute for step in plain}),
        plain_steps=len(plain) + sum(step.shape == Shape.TYPENAME for step in steps),
    )


def _coerce_leaves(leaf_type: GraphQLLeafType, values: Any) -> list[Any] | None:
    if not isinstance(values, list):
        return None
    coerce = leaf_type.coerce_output_value
    coerced = []
    for value in values:
        if value is None:
            return None
        out = coerce(value)
        if out is None or out is Undefined:
            return None
        coerced.append(out)
    return coerced


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Plans selection sets once per request and fills plain fields by reading them."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._plain = self.abort_signal is None and (manager is None or not manager.middlewares)
        self._plans: dict[tuple[GraphQLObjectType, int], tuple[GroupedFieldSet, Plan]] = {}

    def _plan(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> Plan:
        # Keyed like graphql-core's own subfield memo; the set is kept alive with its plan.
        key = (parent_type, id(grouped_field_set))
        cached = self._plans.get(key)
        if cached is not None:
            return cached[1]
        plan = make_plan(parent_type, grouped_field_set)
        self._plans[key] = (grouped_field_set, plan)
        return plan

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        if not self._plain:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plan = self._plan(parent_type, grouped_field_set)
        instance = getattr(source_value, "__dict__", None)
        readable = instance is not None and plan.reads_instance_dict(type(source_value))
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        parent_name = parent_type.name
        plain = 0
        try:
            for step in plan.steps:
                name = step.response_name
                shape = step.shape
                result: Any = _MISSING
                if shape is Shape.TYPENAME:
                    result = parent_name
                elif shape is not Shape.RESOLVED and readable:
                    assert instance is not None
                    result = self._read(step, instance, path, parent_name)
                if result is _MISSING:
                    result = self.execute_field(
                        parent_type,
                        source_value,
                        step.field_details_list,
                        Path(path, name, parent_name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                else:
                    plain += 1
                results[name] = result
                if is_awaitable(result):
                    awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        finally:
            FIELD_COUNTS.plain += plain
            FIELD_COUNTS.resolved += len(results) - plain

        if not awaitable_fields:
            return results

        async def get_results() -> dict[str, Any]:
            if len(awaitable_fields) == 1:
                name = awaitable_fields[0]
                results[name] = await results[name]
            else:
                awaited = await gather_with_cancel(*(results[name] for name in awaitable_fields))
                results.update(zip(awaitable_fields, awaited, strict=True))
            return results

        return get_results()

    def _read(  # noqa: PLR0911  (one return per shape, as complete_value)
        self, step: Step, instance: dict[str, Any], path: Path | None, parent: str
    ) -> Any:
        """The field's completed value, or _MISSING for graphql-core to fill it."""
        value = instance.get(step.attribute, _MISSING)
        if value is None:
            return _MISSING if step.non_null else None
        if value is _MISSING or isinstance(value, Exception):
            return _MISSING
        shape = step.shape
        if shape is Shape.LEAF:
            try:
                coerced = step.named_type.coerce_output_value(value)
            except Exception:  # noqa: BLE001  (graphql-core says why, when it runs it)
                return _MISSING
            return _MISSING if coerced is None or coerced is Undefined else coerced
        if shape is Shape.LEAF_LIST:
            try:
                coerced_list = _coerce_leaves(step.named_type, value)
            except Exception:  # noqa: BLE001
                return _MISSING
            return _MISSING if coerced_list is None else coerced_list
        field_path = Path(path, step.response_name, parent)
        if shape is Shape.OBJECT:
            return self._completed_field(step, field_path, self._object, value)
        is_awaitable = self.is_awaitable
        if not isinstance(value, list) or any(
            item is None or isinstance(item, Exception) or is_awaitable(item) for item in value
        ):
            return _MISSING
        return self._completed_field(step, field_path, self._object_list, value)

    def _completed_field(
        self, step: Step, field_path: Path, complete: Callable[[Step, Any, Path], Any], value: Any
    ) -> Any:
        """What ``execute_field`` does around ``complete_value``: a located error, null
        for a nullable field, raised for a non-null one, now or once awaited."""
        try:
            completed = complete(step, value, field_path)
        except Exception as raw_error:  # noqa: BLE001  (graphql-core's: any error is the field's)
            self.handle_field_error(
                raw_error, step.return_type, step.field_details_list, field_path
            )
            return None
        if self.is_awaitable(completed):
            return self._await_field(completed, step, field_path)
        return completed

    async def _await_field(self, completed: Awaitable[Any], step: Step, field_path: Path) -> Any:
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001  (graphql-core's: any error is the field's)
            self.handle_field_error(
                raw_error, step.return_type, step.field_details_list, field_path
            )
            return None

    def _object(self, step: Step, value: Any, path: Path) -> Any:
        object_type: GraphQLObjectType = step.named_type
        grouped_field_set = self.collect_subfields(object_type, step.field_details_list)[0]
        return self.execute_fields(object_type, value, path, grouped_field_set, None)

    def _object_list(self, step: Step, items: list[Any], path: Path) -> Any:
        """``complete_iterable_value`` for items that are objects, none of them null."""
        object_type: GraphQLObjectType = step.named_type
        grouped_field_set = self.collect_subfields(object_type, step.field_details_list)[0]
        item_type: GraphQLOutputType = (
            GraphQLNonNull(object_type) if step.item_non_null else object_type
        )
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = Path(path, index, None)
                try:
                    completed = self.execute_fields(
                        object_type, item, item_path, grouped_field_set, None
                    )
                except Exception as raw_error:  # noqa: BLE001  (as graphql-core)  # noqa: BLE001  (graphql-core's: any error is the field's)
                    self.handle_field_error(
                        raw_error, item_type, step.field_details_list, item_path
                    )
                    completed = None
                if is_awaitable(completed):
                    completed = self._await_item(completed, item_type, step, item_path)
                    awaitable_indices.append(index)
                completed_results.append(completed)
        except Exception:
            pending = [completed_results[index] for index in awaitable_indices]
            if pending:
                self.settle_in_background(pending)
            raise

        if not awaitable_indices:
            return completed_results

        async def get_completed_results() -> list[Any]:
            if len(awaitable_indices) == 1:
                index = awaitable_indices[0]
                completed_results[index] = await completed_results[index]
            else:
                awaited = await gather_with_cancel(
                    *(completed_results[index] for index in awaitable_indices)
                )
                for index, sub_result in zip(awaitable_indices, awaited, strict=True):
                    completed_results[index] = sub_result
            return completed_results

        return get_completed_results()

    async def _await_item(
        self, completed: Awaitable[Any], item_type: GraphQLOutputType, step: Step, path: Path
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001  (graphql-core's: any error is the field's)
            self.handle_field_error(raw_error, item_type, step.field_details_list, path)
            return None
