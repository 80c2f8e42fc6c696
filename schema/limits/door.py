"""Before a validated operation runs: its transport, its cost against the limit, then the
client's budgets and, in the same round trip to Redis, whether the caller's token was
revoked; last, a document sent with its hash is kept (persisted queries)."""

from collections.abc import AsyncIterator
from typing import Any

from graphql import get_operation_ast
from strawberry.extensions import SchemaExtension

from schema.context import Context
from schema.limits.cost_cache import cached_operation_cost
from schema.limits.persisted_registration import register_persisted
from schema.limits.transport import check_transport
from services.errors import QueryTooComplex
from services.persisted_documents.known import KnownDocuments
from services.rate_limits.request_budgets import charge_request


class Door(SchemaExtension):
    """Refuses an operation sent over the wrong transport (BAD_USER_INPUT), over
    ``max_cost`` (QUERY_TOO_COMPLEX), over the client's budgets (RATE_LIMITED) or with a
    revoked token (UNAUTHENTICATED); keeps the persisted document of one let through;
    tells every response its cost. One extension for all of it: each extension costs
    every request an instance and its hooks' context managers."""

    def __init__(self, *, max_cost: int, documents: KnownDocuments) -> None:
        self.max_cost = max_cost
        self.documents = documents
        self.requested = 0  # a document that never validated asked for nothing

    async def on_execute(self) -> AsyncIterator[None]:
        execution = self.execution_context
        assert execution.graphql_document is not None
        operation = get_operation_ast(execution.graphql_document, execution.operation_name)
        assert operation is not None  # strawberry refused the request otherwise
        context: Context = execution.context
        check_transport(operation, context)
        cost = cached_operation_cost(
            execution.schema._schema,
            execution.query,
            execution.graphql_document,
            operation,
            execution.variables or {},
        )
        self.requested = cost.requested
        if cost.requested > self.max_cost:
            raise QueryTooComplex(
                f"The operation costs {cost.requested}; at most {self.max_cost} is allowed."
                " Ask for fewer items (`first`) or fewer fields."
            )
        await charge_request(
            context.redis,
            context.services.settings.rate_limits,
            ip=context.ip,
            user_id=str(context.caller.user_id) if context.caller else None,
            cost=cost.requested,
            registrations=cost.root_fields["registerPatient"],
            logins=cost.root_fields["login"],
            revocation_keys=context.unchecked_revocations,
        )
        await register_persisted(self.documents, execution)
        yield

    def get_results(self) -> dict[str, Any]:
        return {"cost": {"requested": self.requested, "limit": self.max_cost}}
