"""A plan run over one object (``execute_fields``) or over a list of objects
(``complete_iterable_value``): the loops every field and every item goes through, each
kept in one frame (schema/fast_executor)."""

from typing import Any

from graphql import GraphQLObjectType, GraphQLOutputType, Undefined
from graphql.execution.collect_fields import FieldDetailsList
from graphql.pyutils import Path, gather_with_cancel

from schema.fast_executor.counts import FIELD_COUNTS
from schema.fast_executor.direct import DirectCaller
from schema.fast_executor.plan import Plan, Shape
from schema.fast_executor.values import MISSING, NEVER_AWAITABLE


class PlanRunner(DirectCaller):
    """Fills an object's fields by its plan, and a list of objects item by item."""

    def _run_plan(  # noqa: PLR0912, PLR0915  (the per-object loop, kept in one frame)
        self,
        plan: Plan,
        parent_type: GraphQLObjectType,
        source: Any,
        path: Path | None,
        position_context: Any,
    ) -> Any:
        """``execute_fields``: the same results, awaitables and error handling."""
        if position_context is None and (compiled := self._compiled(plan, parent_type)):
            tally = [0, 0]
            completed = compiled(source, tally)
            if completed is not MISSING:
                FIELD_COUNTS.add_compiled(tally)
                return completed
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
                result: Any = MISSING
                if shape is Shape.LEAF and readable:
                    # The commonest field, inlined: _complete's first branches.
                    assert instance is not None
                    value = instance.get(step.attribute)
                    if value is not None and not isinstance(value, Exception):
                        try:
                            result = step.serialize(value)  # type: ignore[misc]
                        except Exception:  # noqa: BLE001  (graphql-core says why, when it runs it)
                            result = MISSING
                        if result is not None and result is not MISSING and result is not Undefined:
                            plain += 1
                            results[name] = result
                            continue
                    elif value is None and step.attribute in instance and not step.non_null:
                        plain += 1
                        results[name] = None
                        continue
                    result = MISSING
                elif shape >= Shape.TYPENAME:
                    if shape is Shape.TYPENAME:
                        result = parent_name
                    elif readable:
                        assert instance is not None
                        value = instance.get(step.attribute, MISSING)
                        if (
                            shape is Shape.OBJECT
                            and value is not None
                            and value is not MISSING
                            and not isinstance(value, Exception)
                        ):
                            # An object under an object (a record's doctor, an edge's
                            # node), inlined: _read and _complete's branch for it.
                            result = self._object(step, value, Path(path, name, parent_name))
                        elif value is not MISSING:
                            result = self._read(step, value, path, parent_name)
                    if result is not MISSING:
                        plain += 1
                        if shape <= Shape.LEAF_LIST:  # never awaitable
                            results[name] = result
                            continue
                elif shape is Shape.DIRECT:
                    direct += 1
                    field_path = Path(path, name, parent_name)
                    result = self._call(step, parent_type, source, field_path, position_context)
                if result is MISSING:
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
                if type(result) not in NEVER_AWAITABLE and is_awaitable(result):
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
        """``complete_iterable_value`` for items that are objects, all there (all_there),
        interpreted: callers try the plan's compiled function first (_compiled_items)."""
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
                if type(completed) not in NEVER_AWAITABLE and is_awaitable(completed):
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
