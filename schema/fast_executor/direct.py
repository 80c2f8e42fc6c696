"""Direct calls: a resolver that takes nothing but ``self`` and ``info`` called as
Strawberry's wrapper would call it, without graphql-core's ``execute_field``
(schema/fast_executor)."""

from collections.abc import Awaitable
from typing import Any

from graphql import GraphQLObjectType, GraphQLResolveInfo
from graphql.execution.executor import to_nodes
from graphql.pyutils import Path

from schema.fast_executor.complete import ValueCompleter
from schema.fast_executor.plan import Step
from schema.fast_executor.values import MISSING


class DirectCaller(ValueCompleter):
    """Calls the resolvers of a plan's DIRECT steps and completes their values."""

    _info_class: Any  # Strawberry's Info class, for the resolvers that take an info

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
            if completed is MISSING:
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
            if completed is MISSING:
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
