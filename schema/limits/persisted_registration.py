"""Automatic persisted queries: a document sent with its hash is kept once the door let it
through (parsed, valid, within the cost limit and the client's budgets), so that junk
never fills the store and every stored document has been paid for."""

from collections.abc import AsyncIterator

from strawberry.extensions import SchemaExtension

from schema.context import Context
from services.persisted_documents.known import KnownDocuments, persisted_hash


class RegisterPersistedDocument(SchemaExtension):
    """After the Door in the list of extensions: its ``on_execute`` runs first."""

    def __init__(self, *, documents: KnownDocuments) -> None:
        self.documents = documents

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        persisted = (execution.operation_extensions or {}).get("persistedQuery")
        if persisted is not None and execution.query:
            context: Context = execution.context
            # The view checked the hash against the query before anything ran.
            await self.documents.register(context.redis, persisted_hash(persisted), execution.query)
        yield
