import strawberry

from resolvers.auth.login import resolve_login
from resolvers.auth.logout import resolve_logout
from resolvers.auth.refresh_token import resolve_refresh_token
from resolvers.auth.register_patient import resolve_register_patient
from schema.types.user import AuthPayload


@strawberry.type
class Mutation:
    register_patient: AuthPayload = strawberry.field(resolver=resolve_register_patient)
    login: AuthPayload = strawberry.field(resolver=resolve_login)
    refresh_token: AuthPayload = strawberry.field(
        resolver=resolve_refresh_token,
        description="Rotates the refresh token; reusing an old one revokes the session.",
    )
    logout: bool = strawberry.field(resolver=resolve_logout)
