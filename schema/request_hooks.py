"""Per-request hooks around every operation: credentials first, the audit trail last."""

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from schema.context import Context


class CredentialsAndAudit(SchemaExtension):
    async def on_operation(self) -> AsyncIterator[None]:
        context: Context = self.execution_context.context
        if context.credentials_error is not None:
            # A bad token is never treated as "anonymous": the client must know.
            raise context.credentials_error
        try:
            yield
        finally:
            # One statement for everything this request read or changed.
            await context.audit.flush(context.sessions)
