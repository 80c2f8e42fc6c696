"""A field's value completed without graphql-core where it takes it as it is: plain
reads and the objects under them, errors handled as ``execute_field`` handles them
(schema/fast_executor)."""

from abc import abstractmethod
from collections.abc import Awaitable
from typing import Any

from graphql import (
    GraphQLNonNull,
    GraphQLObjectType,
    GraphQLOutputType,
    Undefined,
)
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path
from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext

from schema.fast_executor.compiled import Compiled, compile_plan
from schema.fast_executor.counts import FIELD_COUNTS
from schema.fast_executor.plan import Plan, Shape, Step, make_plan
from schema.fast_executor.values import MISSING, NEVER_AWAITABLE, all_there, coerce_leaves


class ValueCompleter(StrawberryGraphQLCoreExecutionContext):
    """Completes fields' values; an object's needs its plan run over its fields, which
    is :class:`~schema.fast_executor.run.PlanRunner`'s."""

    _handlers: bool  # whether Strawberry's exception handlers are set (make_plan's)
    _plans_kept: bool  # whether the plans of this document are kept across requests

    @abstractmethod
    def _run_plan(
        self,
        plan: Plan,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        position_context: Any,
    ) -> Any:
        """``execute_fields`` for one object, by its plan."""

    @abstractmethod
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
        """``complete_iterable_value`` for items that are objects, all there."""

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
                return MISSING
            completed = self._run_plan(plan, step.named_type, value, path, None)
        except Exception as raw_error:  # noqa: BLE001  (graphql-core's: any error is the field's)
            self.handle_field_error(raw_error, step.field_def.type, step.field_details_list, path)
            return None
        if type(completed) not in NEVER_AWAITABLE and self.is_awaitable(completed):
            return self._await_completed(
                completed, step.field_def.type, step.field_details_list, path
            )
        return completed

    def _read(self, step: Step, value: Any, path: Path | None, parent: str) -> Any:
        """A plain read's completed value (errors handled as ``execute_field`` handles
        them), or MISSING for graphql-core to fill the field."""
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
        """``complete_value`` for the shapes it takes as they are; MISSING for any other
        value (graphql-core's complete_value then says what is wrong with it). Objects'
        fields may raise or return an awaitable, as graphql-core's do."""
        if value is None:
            return MISSING if step.non_null else None
        if isinstance(value, Exception):
            return MISSING
        completion = step.completion
        if completion is Shape.LEAF:
            try:
                assert step.serialize is not None
                coerced = step.serialize(value)
            except Exception:  # noqa: BLE001  (graphql-core says why, when it runs it)
                return MISSING
            return MISSING if coerced is None or coerced is Undefined else coerced
        if completion is Shape.LEAF_LIST:
            try:
                assert step.serialize is not None
                coerced_list = coerce_leaves(step.serialize, value)
            except Exception:  # noqa: BLE001
                return MISSING
            return MISSING if coerced_list is None else coerced_list
        assert path is not None
        if completion is Shape.OBJECT:
            plan = self._sub_plan(step)
            if plan is None:
                return MISSING
            return self._run_plan(plan, step.named_type, value, path, None)
        if (
            completion is not Shape.OBJECT_LIST
            or not isinstance(value, list)
            or (plan := self._sub_plan(step)) is None
        ):
            return MISSING
        object_type: GraphQLObjectType = step.named_type
        completed = self._compiled_items(plan, object_type, value)
        if completed is not None:
            return completed
        if not all_there(value, self.is_awaitable):
            return MISSING
        item_type = GraphQLNonNull(object_type) if step.item_non_null else object_type
        return self._objects(
            plan, object_type, value, path, item_type=item_type, details=step.field_details_list
        )

    def _compiled(self, plan: Plan, parent_type: GraphQLObjectType) -> Compiled | None:
        """The plan's function (compiled.py), made at the first run of a kept plan."""
        if plan.kept and not plan.compile_tried:
            plan.compile_tried = True
            plan.compiled = compile_plan(plan, parent_type, self._sub_plan)
        return plan.compiled

    def _compiled_items(
        self, plan: Plan, object_type: GraphQLObjectType, items: list[Any]
    ) -> list[Any] | None:
        """The items filled by the plan's compiled function, when it takes every one
        whole (no null, exception or awaitable among them); None for the other ways."""
        compiled = self._compiled(plan, object_type)
        if compiled is None:
            return None
        tally = [0, 0]
        completed = [compiled(item, tally) for item in items]
        if MISSING in completed:
            return None
        FIELD_COUNTS.add_compiled(tally)
        return completed

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
            plan = step.sub_plan = make_plan(
                object_type, sub_fields, self._handlers, kept=self._plans_kept
            )
        return plan
