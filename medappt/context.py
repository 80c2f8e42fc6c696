"""The per-request GraphQL context."""

from dataclasses import dataclass

from redis.asyncio import Redis
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker
from starlette.requests import Request

from loaders import Loaders, create_loaders
from medappt.services import Services


@dataclass(frozen=True, slots=True)
class Context:
    request: Request
    request_id: str
    services: Services
    loaders: Loaders

    @property
    def sessions(self) -> async_sessionmaker[AsyncSession]:
        return self.services.sessions

    @property
    def redis(self) -> Redis:
        return self.services.redis


def build_context(request: Request, services: Services, request_id: str) -> Context:
    return Context(
        request=request,
        request_id=request_id,
        services=services,
        loaders=create_loaders(services.sessions),
    )
