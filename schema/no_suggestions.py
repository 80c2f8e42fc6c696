"""Production errors that name nothing of the schema: no "Did you mean ...?".

graphql-core leaves the suggestions out when asked (``hide_suggestions``);
validation asks in ``schema.limits.validation``, and this executor asks when
variables are coerced (an unknown enum value or input field in the variables).
"""

from typing import Any

from strawberry.schema.schema import StrawberryGraphQLCoreExecutionContext


class ExecutorWithoutSuggestions(StrawberryGraphQLCoreExecutionContext):
    @classmethod
    def build(cls, *args: Any, **kwargs: Any) -> Any:
        return super().build(*args, **{**kwargs, "hide_suggestions": True})
