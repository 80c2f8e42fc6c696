"""graphql-transport-ws on /graphql: the access token from ``connection_init``, checked
again at each ``subscribe``, and the caps on open subscriptions (README "Live slots")."""

import asyncio
import contextlib
import contextvars
import uuid
from collections import Counter
from datetime import UTC, datetime
from typing import Any

from redis.exceptions import RedisError
from strawberry.subscriptions.protocols.graphql_transport_ws.handlers import (
    BaseGraphQLTransportWSHandler,
)
from strawberry.subscriptions.protocols.graphql_transport_ws.types import (
    ConnectionInitMessage,
    SubscribeMessage,
)

from domain.caller import Caller
from schema.context import Context, authenticate, build_context
from services.errors import ErrorCode, Unauthenticated

# graphql-transport-ws's own code for "who are you?"; 1013 is RFC 6455's "try again later".
CLOSE_UNAUTHORIZED = 4401
CLOSE_TRY_AGAIN_LATER = 1013
UNAUTHORIZED = "Unauthorized: send a valid access token in connection_init."
TOKEN_EXPIRED = "Unauthorized: the access token expired; connect again with a new one."
REDIS_DOWN = "Try again later: the service cannot check tokens right now."

# The context of the operation running in this task (each operation runs in its own).
_operation_context: contextvars.ContextVar[Context] = contextvars.ContextVar("operation_context")


class OpenSubscriptions:
    """Subscriptions open on this process, per user: one process's memory and fan-out
    work is what the cap protects, and a count kept here cannot outlive a crash."""

    def __init__(self) -> None:
        self._per_user: Counter[uuid.UUID] = Counter()

    def of(self, user_id: uuid.UUID) -> int:
        return self._per_user[user_id]

    def opened(self, user_id: uuid.UUID) -> None:
        self._per_user[user_id] += 1

    def closed(self, user_id: uuid.UUID) -> None:
        self._per_user[user_id] -= 1
        if self._per_user[user_id] <= 0:
            del self._per_user[user_id]


class SubscriptionSocket(BaseGraphQLTransportWSHandler[Context, None]):
    """Strawberry's handler, plus: ``connection_init`` without a valid token closes the
    socket with 4401 (1013 while tokens cannot be checked); each operation gets a context
    of its own, for the token as it stands then (4401 once it no longer passes); the
    socket closes with 4401 when the token expires; caps answer RATE_LIMITED."""

    def __init__(self, **kwargs: Any) -> None:
        self._authorization: str | None = None
        self._caller: Caller | None = None
        self._expiry: asyncio.Task[None] | None = None
        self._contexts: dict[str, Context] = {}
        super().__init__(**kwargs)

    # Strawberry hands ``self.context`` to each operation it starts; in an operation's
    # task that is the context made for it at subscribe.
    @property
    def context(self) -> Context:
        return _operation_context.get(self._connection_context)

    @context.setter
    def context(self, value: Context) -> None:
        self._connection_context = value

    async def handle_connection_init(self, message: ConnectionInitMessage) -> None:
        payload = message.get("payload", {})
        if isinstance(payload, dict) and not self.connection_init_received:
            authorization = payload.get("Authorization")
            if not isinstance(authorization, str):
                await self._close(CLOSE_UNAUTHORIZED, UNAUTHORIZED)
                return
            caller = await self._authenticate(authorization)
            if caller is None:
                return
            self._authorization, self._caller = authorization, caller
            self._expiry = asyncio.create_task(self._close_at_expiry(caller.token_expires_at))
        await super().handle_connection_init(message)

    async def handle_subscribe(self, message: SubscribeMessage) -> None:
        caller = self._caller
        if not self.connection_acknowledged or caller is None or message["id"] in self.operations:
            await super().handle_subscribe(message)  # refused by the protocol's rules
            return
        if await self._authenticate(self._authorization) is None:
            return
        settings = self._connection_context.services.settings
        open_subscriptions: OpenSubscriptions = self.view.open_subscriptions  # type: ignore[attr-defined]
        if len(self.operations) >= settings.max_subscriptions_per_connection:
            await self._refuse(
                message["id"],
                f"At most {settings.max_subscriptions_per_connection} subscriptions may be "
                "open on one connection; complete one first.",
            )
            return
        if open_subscriptions.of(caller.user_id) >= settings.max_subscriptions_per_user:
            await self._refuse(
                message["id"],
                f"At most {settings.max_subscriptions_per_user} subscriptions may be open "
                "for one user; complete one first.",
            )
            return
        connection = self._connection_context
        context = self._contexts[message["id"]] = await build_context(
            connection.request, connection.services, connection.request_id, self._authorization
        )
        await super().handle_subscribe(message)
        operation = self.operations.get(message["id"])
        if operation is None or operation.task is None:
            self._contexts.pop(message["id"], None)
            return
        open_subscriptions.opened(caller.user_id)

        def ended(_: object, id_: str = message["id"]) -> None:
            open_subscriptions.closed(caller.user_id)
            # Completed before it started, its context was never taken (and the id may
            # be in use again by now).
            if self._contexts.get(id_) is context:
                del self._contexts[id_]

        operation.task.add_done_callback(ended)

    async def run_operation(self, operation: Any) -> None:
        _operation_context.set(self._contexts.pop(operation.id))
        await super().run_operation(operation)

    async def shutdown(self) -> None:
        if self._expiry is not None:
            self._expiry.cancel()
        await super().shutdown()

    async def _authenticate(self, authorization: str | None) -> Caller | None:
        """The caller, or None once the socket is closed for want of one."""
        services = self._connection_context.services
        try:
            caller = await authenticate(services, authorization)
        except Unauthenticated:
            caller = None
        except RedisError:
            await self._close(CLOSE_TRY_AGAIN_LATER, REDIS_DOWN)
            return None
        if caller is None:
            await self._close(CLOSE_UNAUTHORIZED, UNAUTHORIZED)
        return caller

    async def _close_at_expiry(self, expires_at: datetime) -> None:
        await asyncio.sleep(max(0.0, (expires_at - datetime.now(UTC)).total_seconds()))
        await self._close(CLOSE_UNAUTHORIZED, TOKEN_EXPIRED)

    async def _close(self, code: int, reason: str) -> None:
        if self.connection_init_timeout_task is not None:
            self.connection_init_timeout_task.cancel()
        with contextlib.suppress(RuntimeError):  # already closed by the other side
            await self.websocket.close(code=code, reason=reason)

    async def _refuse(self, operation_id: str, message: str) -> None:
        await self.send_message(
            {
                "id": operation_id,
                "type": "error",
                "payload": [
                    {
                        "message": message,
                        "extensions": {"code": ErrorCode.RATE_LIMITED.value, "retryAfter": 1},
                    }
                ],
            }
        )
