"""Strawberry's extension hooks, wrapped once per hook function instead of once per request.

For each request and phase, Strawberry's context managers (strawberry/extensions/context.py)
inspect every extension's hook and wrap it in a new ``contextmanager`` or
``asynccontextmanager`` bound to the instance, which copies the function's metadata
(functools.update_wrapper) each time: some 20 µs of every request for our extensions.
The wrapping depends only on the function, so it is done once and kept here; each request
still gets its own context managers, entered by Strawberry's code, in Strawberry's order.

One difference: when a hook raises on the way in (the Door refusing an operation), the
hooks of the phase already entered are exited with its exception, as an ExitStack would.
Strawberry leaves them suspended at their ``yield``: each was closed only when the cycle
collector found it, and the request it holds stayed in memory until then.
"""

import contextlib
import inspect
import types
from asyncio import iscoroutinefunction
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any, NamedTuple, cast

from strawberry.extensions import SchemaExtension
from strawberry.extensions.context import (
    ExecutingContextManager,
    ExtensionContextManagerBase,
    OperationContextManager,
    ParsingContextManager,
    StreamResultContextManager,
    ValidationContextManager,
    WrappedHook,
)
from strawberry.extensions.runner import SchemaExtensionsRunner
from strawberry.types import StreamExecutionResult


class _Wrapped(NamedTuple):
    # Given the extension (and, for on_stream_result, the result): the hook's context manager.
    factory: Callable[..., Any]
    is_async: bool


# By hook function: a class's hooks are a few functions, shared by its subclasses.
_WRAPPED: dict[object, _Wrapped] = {}


def _wrap(hook: Callable[..., Any]) -> _Wrapped:
    """As Strawberry's ``get_hook`` and ``from_callable`` wrap ``hook``, minus the binding."""
    if inspect.isgeneratorfunction(hook):
        return _Wrapped(contextlib.contextmanager(hook), is_async=False)
    if inspect.isasyncgenfunction(hook):
        return _Wrapped(contextlib.asynccontextmanager(hook), is_async=True)
    if iscoroutinefunction(hook):

        @contextlib.asynccontextmanager
        async def awaited(extension: SchemaExtension, *result: Any) -> AsyncIterator[None]:
            await hook(extension, *result)
            yield

        return _Wrapped(awaited, is_async=True)

    @contextlib.contextmanager
    def called(extension: SchemaExtension, *result: Any) -> Iterator[None]:
        hook(extension, *result)
        yield

    return _Wrapped(called, is_async=False)


class _WrappedOnce(ExtensionContextManagerBase):
    # A phase with one hook (each of ours but the operation) enters it as it is, not
    # through an exit stack: some 5 µs a phase.
    __slots__ = ("_alone",)
    _alone: contextlib.AbstractAsyncContextManager[None] | None

    # Strawberry's __enter__ and __aenter__ enter the hooks one after another, and nothing
    # exits those already entered if a later one raises (no __exit__ follows a failed
    # enter): exited here, at once, with the exception.
    def __enter__(self) -> None:
        try:
            super().__enter__()
        except BaseException as error:
            self.exit_stack.__exit__(type(error), error, error.__traceback__)
            raise

    async def __aenter__(self) -> None:
        if len(self.hooks) == 1 and self.hooks[0].is_async:
            alone = cast(contextlib.AbstractAsyncContextManager[None], self.hooks[0].hook())
            await alone.__aenter__()
            self._alone = alone  # entered: exited by __aexit__
            return
        self._alone = None
        try:
            await super().__aenter__()
        except BaseException as error:
            await self.async_exit_stack.__aexit__(type(error), error, error.__traceback__)
            raise

    async def __aexit__(
        self,
        exc_type: type[BaseException] | None,
        exc_val: BaseException | None,
        exc_tb: types.TracebackType | None,
    ) -> None:
        # As Strawberry's: what the hooks return does not suppress the exception.
        if self._alone is not None:
            await self._alone.__aexit__(exc_type, exc_val, exc_tb)
        else:
            await super().__aexit__(exc_type, exc_val, exc_tb)

    def get_hook(self, extension: SchemaExtension) -> WrappedHook | None:
        hook = getattr(type(extension), self.HOOK_NAME)
        if hook is self.default_hook or not hook:
            return None
        wrapped = _WRAPPED.get(hook)
        if wrapped is None:
            if not callable(hook):
                return super().get_hook(extension)  # Strawberry's ValueError
            wrapped = _WRAPPED[hook] = _wrap(hook)
        return WrappedHook(
            extension, types.MethodType(wrapped.factory, extension), wrapped.is_async
        )


class _Operation(_WrappedOnce, OperationContextManager):
    __slots__ = ()


class _Validation(_WrappedOnce, ValidationContextManager):
    __slots__ = ()


class _Parsing(_WrappedOnce, ParsingContextManager):
    __slots__ = ()


class _Executing(_WrappedOnce, ExecutingContextManager):
    __slots__ = ()


class _StreamResult(_WrappedOnce, StreamResultContextManager):
    pass


class ExtensionsRunner(SchemaExtensionsRunner):
    """Strawberry's runner, with hooks from ``_WRAPPED``: ``MedapptSchema`` makes one per
    request (execute, execute_sync and subscribe alike)."""

    def operation(self) -> OperationContextManager:
        return _Operation(self.extensions)

    def validation(self) -> ValidationContextManager:
        return _Validation(self.extensions)

    def parsing(self) -> ParsingContextManager:
        return _Parsing(self.extensions)

    def executing(self) -> ExecutingContextManager:
        return _Executing(self.extensions)

    def on_stream_result(self, result: StreamExecutionResult) -> StreamResultContextManager:
        return _StreamResult(self.extensions, result)
