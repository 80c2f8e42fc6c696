"""The execution context: graphql-core's hooks, overridden to run fields by their plans
(the package's docstring says how and why; schema/fast_executor)."""

from dataclasses import dataclass
from typing import Any

from graphql import GraphQLObjectType, GraphQLOutputType, GraphQLResolveInfo, Undefined
from graphql.execution.collect_fields import FieldDetailsList, GroupedFieldSet
from graphql.pyutils import Path

from schema.fast_executor.plan import Plan, make_plan, planned_value
from schema.fast_executor.run import PlanRunner
from schema.fast_executor.shared import details_key, set_key, shared_plans
from schema.fast_executor.values import all_there


@dataclass(slots=True)
class _PlannedValue:
    """How ``complete_value`` completes one field's values through a plan."""

    object_type: GraphQLObjectType
    item_type: GraphQLOutputType | None  # a list's (NonNull kept); None for an object
    plan: Plan


class FastExecutor(PlanRunner):
    """Plans selection sets once per document (once per request when variables may change
    them: schema/fast_executor/shared.py); reads plain fields, calls simple resolvers."""

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
        self._shared = (
            shared_plans(self.schema, self.operation, self.fragment_definitions.values())
            if self._planned
            else None
        )
        self._plans_kept = self._shared is not None

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
        shared = self._shared
        if shared is not None:
            shared_key = (parent_type, set_key(grouped_field_set))
            plan: Plan | None = shared.plans.get(shared_key)
            if plan is None:
                plan = make_plan(parent_type, grouped_field_set, self._handlers, kept=True)
                shared.plans[shared_key] = plan
            return plan
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
                if type(result) is list:
                    completed = self._compiled_items(planned.plan, planned.object_type, result)
                    if completed is not None:
                        return completed
                    if all_there(result, self.is_awaitable):
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
        shared = self._shared
        if shared is not None:
            shared_key = (return_type, details_key(details))
            if shared_key in shared.values:
                planned: _PlannedValue | None = shared.values[shared_key]
            else:
                planned = shared.values[shared_key] = self._make_planned_value(return_type, details)
            return planned
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
