"""A graphql-transport-ws client on a real WebSocket, for subscriptions."""

import asyncio
import contextlib
import json
from collections.abc import AsyncIterator
from typing import Any

from websockets.asyncio.client import ClientConnection, connect
from websockets.exceptions import ConnectionClosed
from websockets.typing import Subprotocol

PROTOCOL = Subprotocol("graphql-transport-ws")
# A generous bound for anything the server should send: arrival is asserted, speed is
# measured in bench/subscriptions.py.
DEADLINE_SECONDS = 15.0

SLOTS_CHANGED = """
subscription Live($doctorId: ID!, $date: Date!) {
  slotsChanged(doctorId: $doctorId, date: $date) { startsAt endsAt available clinic { name } }
}
"""


def ws_url(http_url: str) -> str:
    return http_url.replace("http://", "ws://", 1) + "/graphql"


class LiveClient:
    def __init__(self, socket: ClientConnection) -> None:
        self.socket = socket

    async def send(self, message: dict[str, Any]) -> None:
        await self.socket.send(json.dumps(message))

    async def receive(self) -> dict[str, Any]:
        """The next message other than a ping; fails past the deadline."""
        async with asyncio.timeout(DEADLINE_SECONDS):
            while True:
                message: dict[str, Any] = json.loads(await self.socket.recv())
                if message["type"] != "ping":
                    return message

    async def init(self, payload: dict[str, Any] | None) -> None:
        await self.send(
            {"type": "connection_init", **({} if payload is None else {"payload": payload})}
        )

    async def subscribe(self, id_: str, query: str, variables: dict[str, Any]) -> None:
        await self.send(
            {"type": "subscribe", "id": id_, "payload": {"query": query, "variables": variables}}
        )

    async def closed_with(self) -> tuple[int, str]:
        """The close code and reason, once the server closes the socket."""
        async with asyncio.timeout(DEADLINE_SECONDS):
            with contextlib.suppress(ConnectionClosed):
                while True:
                    await self.socket.recv()
        assert self.socket.close_code is not None
        return self.socket.close_code, self.socket.close_reason or ""


@contextlib.asynccontextmanager
async def live_socket(http_url: str) -> AsyncIterator[LiveClient]:
    async with connect(
        ws_url(http_url), subprotocols=[PROTOCOL], open_timeout=DEADLINE_SECONDS
    ) as socket:
        yield LiveClient(socket)


@contextlib.asynccontextmanager
async def signed_socket(http_url: str, token: str) -> AsyncIterator[LiveClient]:
    """A connection acknowledged for ``token``."""
    async with live_socket(http_url) as client:
        await client.init({"Authorization": f"Bearer {token}"})
        assert await client.receive() == {"type": "connection_ack"}
        yield client
