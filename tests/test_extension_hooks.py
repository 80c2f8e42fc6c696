"""schema/extension_hooks.py runs every kind of extension hook as Strawberry's own runner
does: same order, same exceptions seen by the hooks, same results, in execute,
execute_sync and subscribe; except that a hook raising on the way in is seen by the hooks
of its phase already entered, which Strawberry leaves suspended for the garbage collector."""

from collections.abc import AsyncGenerator, AsyncIterator, Iterator
from typing import Any

import strawberry
from strawberry.extensions import SchemaExtension
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import ExecutionContext, ExecutionResult, StreamExecutionResult

from schema.build import build_schema
from schema.extension_hooks import ExtensionsRunner


def _events(extension: SchemaExtension) -> list[str]:
    events: list[str] = extension.execution_context.context["events"]
    return events


class Named(SchemaExtension):
    # The RuntimeError of an async hook in sync mode names the extension.
    def __repr__(self) -> str:
        return type(self).__name__


class SyncGenerators(Named):
    def on_operation(self) -> Iterator[None]:
        _events(self).append("sync operation in")
        try:
            yield
        except Exception as error:
            _events(self).append(f"sync operation saw {error!r}")
            raise
        _events(self).append("sync operation out")

    def on_parse(self) -> Iterator[None]:
        _events(self).append("sync parse in")
        yield
        _events(self).append("sync parse out")


class AsyncGenerators(Named):
    async def on_operation(self) -> AsyncIterator[None]:
        _events(self).append("async operation in")
        try:
            yield
        except Exception as error:
            _events(self).append(f"async operation saw {error!r}")
            raise
        _events(self).append("async operation out")

    async def on_execute(self) -> AsyncIterator[None]:
        _events(self).append("async execute in")
        try:
            yield
        except Exception as error:
            _events(self).append(f"async execute saw {error!r}")
            raise
        _events(self).append("async execute out")

    async def on_stream_result(self, result: StreamExecutionResult) -> AsyncIterator[None]:
        assert isinstance(result, ExecutionResult)
        _events(self).append(f"async stream {result.data}")
        yield


class PlainCalls(Named):
    def on_validate(self) -> None:  # type: ignore[override]
        _events(self).append("plain validate")

    async def on_execute(self) -> None:  # type: ignore[override]
        _events(self).append("awaited execute")

    def on_stream_result(self, result: StreamExecutionResult) -> None:  # type: ignore[override]
        assert isinstance(result, ExecutionResult)
        _events(self).append(f"plain stream {result.data}")


class RefusesExecution(Named):
    def on_execute(self) -> Iterator[None]:
        raise ValueError("refused")
        yield


class SyncOnly(SyncGenerators):
    def on_validate(self) -> None:  # type: ignore[override]
        _events(self).append("plain validate")


@strawberry.type
class Query:
    @strawberry.field
    def hello(self) -> str:
        return "hi"


@strawberry.type
class Subscription:
    @strawberry.subscription
    async def count(self) -> AsyncGenerator[int, None]:
        yield 1
        yield 2


class Wrapped(strawberry.Schema):
    def create_extensions_runner(
        self, execution_context: ExecutionContext, extensions: list[SchemaExtension]
    ) -> SchemaExtensionsRunner:
        return ExtensionsRunner(execution_context=execution_context, extensions=extensions)


def _schemas(*extensions: type[SchemaExtension]) -> list[strawberry.Schema]:
    return [
        kind(query=Query, subscription=Subscription, extensions=list(extensions))
        for kind in (strawberry.Schema, Wrapped)
    ]


def _outcome(result: ExecutionResult) -> tuple[object, list[str]]:
    return result.data, [error.message for error in result.errors or []]


async def test_execute_runs_each_kind_of_hook_in_strawberrys_order() -> None:
    runs = []
    for schema in _schemas(SyncGenerators, AsyncGenerators, PlainCalls):
        events: list[str] = []
        result = await schema.execute("{ hello }", context_value={"events": events})
        runs.append((_outcome(result), events))

    assert runs[1] == runs[0]
    assert runs[1] == (
        ({"hello": "hi"}, []),
        [
            "sync operation in",
            "async operation in",
            "sync parse in",
            "sync parse out",
            "plain validate",
            "async execute in",
            "awaited execute",
            "async execute out",
            "async operation out",
            "sync operation out",
        ],
    )


async def test_a_hook_that_raises_is_seen_by_the_hooks_around_it() -> None:
    runs = []
    for schema in _schemas(SyncGenerators, AsyncGenerators, RefusesExecution):
        events: list[str] = []
        result = await schema.execute("{ hello }", context_value={"events": events})
        runs.append((_outcome(result), events))

    strawberrys, ours = runs
    assert ours == (
        (None, ["refused"]),
        [
            "sync operation in",
            "async operation in",
            "sync parse in",
            "sync parse out",
            "async execute in",
            "async execute saw ValueError('refused')",
            "async operation saw ValueError('refused')",
            "sync operation saw ValueError('refused')",
        ],
    )
    # Strawberry's runner never exits the execute hook entered before the refusal.
    assert strawberrys == (ours[0], [e for e in ours[1] if not e.startswith("async execute saw")])


def test_execute_sync_runs_sync_hooks_and_refuses_async_ones() -> None:
    runs = []
    for extensions in ((SyncOnly,), (SyncOnly, AsyncGenerators)):
        for schema in _schemas(*extensions):
            events: list[str] = []
            result = schema.execute_sync("{ hello }", context_value={"events": events})
            runs.append((_outcome(result), events))

    refusal = "SchemaExtension hook AsyncGenerators.on_operation failed to complete synchronously."
    assert runs == [
        *[(({"hello": "hi"}, []), ["sync operation in", "sync parse in", "sync parse out",
                                   "plain validate", "sync operation out"])] * 2,
        # Strawberry's runner, then ours, which exits the hook entered before the refusal.
        ((None, [refusal]), ["sync operation in"]),
        ((None, [refusal]), ["sync operation in", f"sync operation saw RuntimeError({refusal!r})"]),
    ]  # fmt: skip


async def test_subscribe_runs_the_hooks_of_each_result() -> None:
    runs = []
    for schema in _schemas(SyncGenerators, AsyncGenerators, PlainCalls):
        events: list[str] = []
        results = await schema.subscribe("subscription { count }", context_value={"events": events})
        assert not isinstance(results, ExecutionResult)
        outcomes: list[Any] = [_outcome(result) async for result in results]
        runs.append((outcomes, events))

    assert runs[1] == runs[0]
    assert runs[1] == (
        [({"count": 1}, []), ({"count": 2}, [])],
        [
            "sync operation in",
            "async operation in",
            "sync parse in",
            "sync parse out",
            "plain validate",
            "async execute in",
            "awaited execute",
            "async execute out",
            "async stream {'count': 1}",
            "plain stream {'count': 1}",
            "async stream {'count': 2}",
            "plain stream {'count': 2}",
            "async operation out",
            "sync operation out",
        ],
    )


def test_the_api_schema_uses_it() -> None:
    schema = build_schema()
    extensions = schema.get_extensions()

    context = ExecutionContext(query=None, schema=schema, allowed_operations=())
    runner = schema.create_extensions_runner(context, extensions)

    assert type(runner) is ExtensionsRunner
    assert [type(hook.extension).__name__ for hook in runner.operation().hooks] == [
        "ObservedOperation",
        "CredentialsAndAudit",
    ]
