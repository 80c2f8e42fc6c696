"""graphql-core's executor without its per-field cost where a field only reads an attribute
or calls a resolver that needs nothing of Strawberry's machinery.

graphql-core runs every field the same way: a ``Path``, a ``GraphQLResolveInfo``, the
resolver (for Strawberry, a wrapper that builds an ``Info``, converts arguments and runs
field extensions around the function), then ``complete_value`` walking the type's
wrappers. :class:`FastExecutor` plans each selection set once per request and sorts its
fields into:

- plain reads: a dataclass field Strawberry resolves with its default getter (no
  resolver, no permission classes, no extensions). Per object, the attribute is read
  from the instance's ``__dict__`` and serialized with the type's own
  ``coerce_output_value``; objects and lists of objects under it are planned the same way.
  No path, info, awaitable or resolver call is made for them.
- direct calls: a resolver without arguments, field extensions or permission classes
  (``MedicalRecord.documentUrl``, ``Appointment.startsAt``): the function is called as
  Strawberry would call it (``self`` and ``info`` only), then completed by graphql-core.
- everything else (root fields, fields with arguments or permission classes, abstract
  types, directives other than include/skip): graphql-core's own ``execute_field``.
  Its ``complete_value`` is overridden so that an object, or a list of objects that
  are all there, returned by such a field is completed through the plan too, not
  through five graphql-core frames per item before ``execute_fields``.

A plain read that would not give a value graphql-core accepts as it is (an attribute
missing from ``__dict__``, a null for a non-null type, a value the scalar refuses, a
list holding nulls, an exception) is handed, unchanged, to ``execute_field``: reading it
again is harmless, and then the error, its message, path, location and null bubbling
are graphql-core's own. Fields run in the order of the selection set, depth first, with
the same awaitables at the same places as graphql-core's, so that errors, audit entries
and loader calls come in the same order. With middleware (an extension's ``resolve``
hook: traced resolvers) or an abort signal every field runs the ordinary way; with
@defer, the fields of a deferred position, and an object whose selection set defers a
fragment, are graphql-core's.

Why not breadth-first (one pass per field over a list of objects, as Shopify does):
it would change the order of errors and of resolver calls, and here the per-field cost
it saves is already gone from plain reads; what is left per object is a dict lookup
and the scalar's serializer.
"""

from collections.abc import Awaitable
from dataclasses import dataclass
from typing import Any

from graphql import (
    GraphQLLeafType,
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    GraphQLResolveInfo,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path, gather_with_cancel
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.fast_executor.plan import Plan, Shape, Step, make_plan, planned_value

_MISSING = object()


@dataclass(slots=True)
class FieldCounts:
    """Fields filled by a plain read, by a direct call and by graphql-core's
    execute_field, since start: tests read them to see which path is taken."""

    plain: int = 0
    direct: int = 0
    resolved: int = 0


FIELD_COUNTS = FieldCounts()


@dataclass(slots=True)
class _PlannedValue:
    """How ``complete_value`` completes one field's values through a plan."""

    object_type: GraphQLObjectType
    item_type: GraphQLOutputType | None  # a list's (NonNull kept); None for an object
    plan: Plan


def _all_there(items: list[Any], is_awaitable: Any) -> bool:
    """Whether every item completes as an object: graphql-core has something to say
    about a null (an error for a non-null item type), an exception or an awaitable."""
    for item in items:
        if item is None or item is Undefined or isinstance(item, Exception) or is_awaitable(item):
            return False
    return True


def _coerce_leaves(leaf_type: GraphQLLeafType, values: Any) -> list[Any] | None:
    if not isinstance(values, list):
        return None
    coerce = leaf_type.coerce_output_value
    coerced = []
    for value in values:
        if value is None or isinstance(value, Exception):
            return None
        out = coerce(value)
        if out is None or out is Undefined:
            return None
        coerced.append(out)
    return coerced


class FastExecutor(StrawberryGraphQLCoreExecutionContext):
    """Plans selection sets once per request; reads plain fields, calls simple resolvers."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        manager = self.middleware_manager
        self._planned = self.abort_signal is None and (manager is None or not manager.middlewares)
        strawberry_schema = getattr(self.schema, "_strawberry_schema", None)
        self._handlers = strawberry_schema is None or bool(strawberry_schema.exception_handlers)
        self._info_class = strawberry_schema.config.info_class if strawberry_schema else None
        self._plans: dict[tuple[GraphQLObjectType, int], tuple[GroupedFieldSet, Plan]] = {}
        # complete_value's, keyed like graphql-core's subfield memo (the list kept alive).
        self._values: dict[
            tuple[GraphQLOutputType, int], tuple[FieldDetailsList, _PlannedValue | None]
        ] = {}

    def build_per_event_executor(self, payload: Any) -> Any:
        # A subscription event collects its fields anew: plans of earlier events'
        # selection sets would only be kept alive, never used again.
        executor = super().build_per_event_executor(payload)
        assert isinstance(executor, FastExecutor)
        executor._plans = {}
        executor._values = {}
        return executor

    def build_response(self, data: dict[str, Any] | None) -> Any:
        response = super().build_response(data)
        # The executor is its own referrer (async_helpers holds two of its bound methods),
        # and it holds the request's context: once it has answered with nothing left
        # running, the cycle is cut, so that the request's objects (context, loaders,
        # rows) go with their last reference instead of waiting for the collector.
        if not self.background_futures and not self.pending_incremental_futures:
            del self.async_helpers
        return response

    def execute_fields(
        self,
        parent_type: GraphQLObjectType,
        source_value: Any,
        path: Path | None,
        grouped_field_set: GroupedFieldSet,
        position_context: Any,
    ) -> Any:
        # A deferred position (position_context): graphql-core splits the fields
        # between payloads, which a plan does not.
        if not self._planned or position_context is not None:
            return super().execute_fields(
                parent_type, source_value, path, grouped_field_set, position_context
            )
        plan = self._plan_of(parent_type, grouped_field_set)
        return self._run_plan(plan, parent_type, source_value, path, position_context)

    def _plan_of(self, parent_type: GraphQLObjectType, grouped_field_set: GroupedFieldSet) -> Plan:
        # Keyed like graphql-core's own subfield memo; the set is kept alive with its plan.
        key = (parent_type, id(grouped_field_set))
        cached = self._plans.get(key)
        if cached is None:
            cached = (grouped_field_set, make_plan(parent_type, grouped_field_set, self._handlers))
            self._plans[key] = cached
        return cached[1]

    def complete_value(  # noqa: PLR0917  (graphql-core's signature)
        self,
        return_type: GraphQLOutputType,
        field_details_list: FieldDetailsList,
        info: GraphQLResolveInfo[Any],
        path: Path,
        result: Any,
        position_context: Any,
    ) -> Any:
        """graphql-core's, except for an object or a list of objects all there outside
        incremental delivery: graphql-core would reach the same plan through
        complete_list_value, complete_list_item_value, complete_value,
        complete_object_value and collect_and_execute_subfields for every item."""
        if (
            self._planned
            and position_context is None
            and result is not None
            and result is not Undefined
            and not isinstance(result, Exception)
            # An empty list costs graphql-core nothing, and making its plan would.
            and (type(result) is not list or result)
        ):
            planned = self._planned_value(return_type, field_details_list)
            if planned is not None:
                if planned.item_type is None:
                    return self._run_plan(planned.plan, planned.object_type, result, path, None)
                # Any other iterable, and items graphql-core reports on, take its path.
                if type(result) is list and _all_there(result, self.is_awaitable):
                    return self._objects(
                        planned.plan,
                        planned.object_type,
                        result,
                        path,
                        item_type=planned.item_type,
                        details=field_details_list,
                    )
        return super().complete_value(
            return_type, field_details_list, info, path, result, position_context
        )

    def _planned_value(
        self, return_type: GraphQLOutputType, details: FieldDetailsList
    ) -> _PlannedValue | None:
        key = (return_type, id(details))
        cached = self._values.get(key)
        if cached is None:
            cached = self._values[key] = (details, self._make_planned_value(return_type, details))
        return cached[1]

    def _make_planned_value(
        self, return_type: GraphQLOutputType, details: FieldDetailsList
    ) -> _PlannedValue | None:
        shape = planned_value(return_type, details)
        if shape is None:
            return None
        object_type, item_type = shape
        try:
            grouped_field_set, defer_usages, _ = self.collect_subfields(object_type, details)
        except Exception:  # noqa: BLE001  (graphql-core raises it, per item, where it would)
            return None
        if defer_usages:  # @defer: graphql-core's incremental execute_collected_subfields
            return None
        return _PlannedValue(object_type, item_type, self._plan_of(object_type, grouped_field_set))

    def _run_plan(  # noqa: PLR0912, PLR0915  (the per-object loop, kept in one frame)
        self,
        plan: Plan,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        position_context: Any,
    ) -> Any:
        """``execute_fields``: the same results, awaitables and error handling."""
        instance = getattr(source, "__dict__", None)
        readable = instance is not None and (
            plan.readable.get(type(source)) or plan.reads_instance_dict(type(source))
        )
        results: dict[str, Any] = {}
        awaitable_fields: list[str] = []
        is_awaitable = self.is_awaitable
        parent_name = parent_type.name
        plain = direct = resolved = 0  # fields filled each way, for FIELD_COUNTS
        try:
            for step in plan.steps:
                name = step.response_name
                shape = step.shape
                result: Any = _MISSING
                if shape is Shape.LEAF and readable:
                    # The commonest field, inlined: _complete's first branches.
                    assert instance is not None
                    value = instance.get(step.attribute)
                    if value is not None and not isinstance(value, Exception):
                        try:
                            result = step.named_type.coerce_output_value(value)
                        except Exception:  # noqa: BLE001  (graphql-core says why, when it runs it)
                            result = _MISSING
                        if (
                            result is not None
                            and result is not _MISSING
                            and result is not Undefined
                        ):
                            plain += 1
                            results[name] = result
                            continue
                    elif value is None and step.attribute in instance and not step.non_null:
                        plain += 1
                        results[name] = None
                        continue
                    result = _MISSING
                elif shape >= Shape.TYPENAME:
                    if shape is Shape.TYPENAME:
                        result = parent_name
                    elif readable:
                        assert instance is not None
                        value = instance.get(step.attribute, _MISSING)
                        if (
                            shape is Shape.OBJECT
                            and value is not None
                            and value is not _MISSING
                            and not isinstance(value, Exception)
                        ):
                            # An object under an object (a record's doctor, an edge's
                            # node), inlined: _read and _complete's branch for it.
                            result = self._object(step, value, Path(path, name, parent_name))
                        elif value is not _MISSING:
                            result = self._read(step, value, path, parent_name)
                    if result is not _MISSING:
                        plain += 1
                        if shape <= Shape.LEAF_LIST:  # never awaitable
                            results[name] = result
                            continue
                elif shape is Shape.DIRECT:
                    direct += 1
                    field_path = Path(path, name, parent_name)
                    result = self._call(step, parent_type, source, field_path, position_context)
                if result is _MISSING:
                    resolved += 1
                    result = self.execute_field(
                        parent_type,
                        source,
                        step.field_details_list,
                        Path(path, name, parent_name),
                        position_context,
                    )
                    if result is Undefined:
                        continue
                results[name] = result
                if is_awaitable(result):
                    awaitable_fields.append(name)
        except Exception:
            if awaitable_fields:
                self.settle_in_background([results[name] for name in awaitable_fields])
            raise
        finally:
            FIELD_COUNTS.plain += plain
            FIELD_COUNTS.direct += direct
            FIELD_COUNTS.resolved += resolved

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

    def _call(
        self,
        step: Step,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path,
        position_context: Any,
    ) -> Any:
        """``execute_field`` with the function called as Strawberry's wrapper calls it
        (``self`` and ``info`` only) and its value completed like a plain read's, or by
        graphql-core's ``complete_value`` when that would not take it as it is."""
        field_def = step.field_def
        function = step.function
        assert field_def is not None
        assert function is not None
        details = step.field_details_list
        return_type = field_def.type
        info: GraphQLResolveInfo[Any] | None = None
        try:
            if step.info_name is None:
                result = function(source) if step.passes_self else function()
            else:
                info = self.build_resolve_info(field_def, step.nodes, parent_type, path)
                assert self._info_class is not None
                strawberry_info = self._info_class(_raw_info=info, _field=step.strawberry_field)
                arguments = {step.info_name: strawberry_info}
                result = (
                    function(source, **arguments) if step.passes_self else function(**arguments)
                )
            if self.is_awaitable(result):
                return self._complete_awaited(
                    step, parent_type, result, path, info, position_context=position_context
                )
            completed = self._complete(step, result, path)
            if completed is _MISSING:
                if info is None:
                    info = self.build_resolve_info(field_def, to_nodes(details), parent_type, path)
                completed = self.complete_value(
                    return_type, details, info, path, result, position_context
                )
            if self.is_awaitable(completed):
                return self._await_completed(completed, return_type, details, path)
        except Exception as raw_error:  # noqa: BLE001  (graphql-core's: any error is the field's)
            self.handle_field_error(raw_error, return_type, details, path)
            return None
        return completed

    async def _complete_awaited(
        self,
        step: Step,
        parent_type: GraphQLObjectType,
        result: Awaitable[Any],
        path: Path,
        info: GraphQLResolveInfo[Any] | None,
        *,
        position_context: Any,
    ) -> Any:
        """``complete_awaitable_value``, completing like :meth:`_call`."""
        field_def = step.field_def
        assert field_def is not None
        details = step.field_details_list
        return_type = field_def.type
        try:
            resolved = await result
            completed = self._complete(step, resolved, path)
            if completed is _MISSING:
                if info is None:
                    info = self.build_resolve_info(field_def, to_nodes(details), parent_type, path)
                completed = self.complete_value(
                    return_type, details, info, path, resolved, position_context
                )
            if self.is_awaitable(completed):
                completed = await completed
        except Exception as raw_error:  # noqa: BLE001  (graphql-core's: any error is the field's)
            self.handle_field_error(raw_error, return_type, details, path)
            completed = None
        return completed

    async def _await_completed(
        self,
        completed: Awaitable[Any],
        return_type: GraphQLOutputType,
        details: FieldDetailsList,
        path: Path,
    ) -> Any:
        try:
            return await completed
        except Exception as raw_error:  # noqa: BLE001  (graphql-core's: any error is the field's)
            self.handle_field_error(raw_error, return_type, details, path)
            return None

    def _object(self, step: Step, value: Any, path: Path) -> Any:
        """:meth:`_read` of an object that is there (not null, not an error)."""
        assert step.field_def is not None
        try:
            plan = step.sub_plan or self._sub_plan(step)
            if plan is None:
                return _MISSING
            completed = self._run_plan(plan, step.named_type, value, path, None)
        except Exception as raw_error:  # noqa: BLE001  (graphql-core's: any error is the field's)
            self.handle_field_error(raw_error, step.field_def.type, step.field_details_list, path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(
                completed, step.field_def.type, step.field_details_list, path
            )
        return completed

    def _read(self, step: Step, value: Any, path: Path | None, parent: str) -> Any:
        """A plain read's completed value (errors handled as ``execute_field`` handles
        them), or _MISSING for graphql-core to fill the field."""
        if step.shape <= Shape.LEAF_LIST:
            return self._complete(step, value, None)
        field_path = Path(path, step.response_name, parent)
        assert step.field_def is not None
        return_type = step.field_def.type
        try:
            completed = self._complete(step, value, field_path)
        except Exception as raw_error:  # noqa: BLE001  (graphql-core's: any error is the field's)
            self.handle_field_error(raw_error, return_type, step.field_details_list, field_path)
            return None
        if self.is_awaitable(completed):
            return self._await_completed(
                completed, return_type, step.field_details_list, field_path
            )
        return completed

    def _complete(self, step: Step, value: Any, path: Path | None) -> Any:  # noqa: PLR0911
        """``complete_value`` for the shapes it takes as they are; _MISSING for any other
        value (graphql-core's complete_value then says what is wrong with it). Objects'
        fields may raise or return an awaitable, as graphql-core's do."""
        if value is None:
            return _MISSING if step.non_null else None
        if isinstance(value, Exception):
            return _MISSING
        completion = step.completion
        if completion is Shape.LEAF:
            try:
                coerced = step.named_type.coerce_output_value(value)
            except Exception:  # noqa: BLE001  (graphql-core says why, when it runs it)
                return _MISSING
            return _MISSING if coerced is None or coerced is Undefined else coerced
        if completion is Shape.LEAF_LIST:
            try:
                coerced_list = _coerce_leaves(step.named_type, value)
            except Exception:  # noqa: BLE001
                return _MISSING
            return _MISSING if coerced_list is None else coerced_list
        assert path is not None
        if completion is Shape.OBJECT:
            plan = self._sub_plan(step)
            if plan is None:
                return _MISSING
            return self._run_plan(plan, step.named_type, value, path, None)
        if (
            completion is not Shape.OBJECT_LIST
            or not isinstance(value, list)
            or not _all_there(value, self.is_awaitable)
            or (plan := self._sub_plan(step)) is None
        ):
            return _MISSING
        object_type: GraphQLObjectType = step.named_type
        item_type = GraphQLNonNull(object_type) if step.item_non_null else object_type
        return self._objects(
            plan, object_type, value, path, item_type=item_type, details=step.field_details_list
        )

    def _sub_plan(self, step: Step) -> Plan | None:
        """The plan of the step's objects; None, from then on, when their selection set
        defers fragments: graphql-core's execute_field or complete_value delivers those."""
        plan = step.sub_plan
        if plan is None and step.completion is not None:
            object_type: GraphQLObjectType = step.named_type
            sub_fields, defer_usages, _ = self.collect_subfields(
                object_type, step.field_details_list
            )
            if defer_usages:
                if step.shape is not Shape.DIRECT:
                    step.shape = Shape.RESOLVED
                step.completion = None
                return None
            step.sub_fields = sub_fields
            plan = step.sub_plan = make_plan(object_type, sub_fields, self._handlers)
        return plan

    def _objects(
        self,
        plan: Plan,
        object_type: GraphQLObjectType,
        items: list[Any],
        path: Path,
        *,
        item_type: GraphQLOutputType,
        details: FieldDetailsList,
    ) -> Any:
        """``complete_iterable_value`` for items that are objects, all there (_all_there)."""
        is_awaitable = self.is_awaitable
        completed_results: list[Any] = []
        awaitable_indices: list[int] = []
        try:
            for index, item in enumerate(items):
                item_path = Path(path, index, None)
                try:
                    completed = self._run_plan(plan, object_type, item, item_path, None)
                except Exception as raw_error:  # noqa: BLE001  (as graphql-core)
                    self.handle_field_error(raw_error, item_type, details, item_path)
                    completed = None
                if is_awaitable(completed):
                    completed = self._await_completed(completed, item_type, details, item_path)
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
