"""Automatic persisted queries: a document sent with its hash is kept once the door let it
through (parsed, valid, within the cost limit and the client's budgets), so that junk
never fills the store and every stored document has been paid for."""

from strawberry.types import ExecutionContext

from schema.context import Context
from services.persisted_documents.known import KnownDocuments, persisted_hash


async def register_persisted(documents: KnownDocuments, execution: ExecutionContext) -> None:
    """Keeps the operation's document under its hash, if it came with one (the Door calls
    this last, once the operation has passed every check)."""
    persisted = (execution.operation_extensions or {}).get("persistedQuery")
    if persisted is not None and execution.query:
        context: Context = execution.context
        # The view checked the hash against the query before anything ran.
        await documents.register(context.redis, persisted_hash(persisted), execution.query)
