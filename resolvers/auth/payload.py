from domain.auth.sessions import SignedIn
from schema.types.user import AuthPayload, User


def auth_payload(signed_in: SignedIn) -> AuthPayload:
    return AuthPayload(
        access_token=signed_in.access_token,
        refresh_token=signed_in.refresh_token,
        expires_in=signed_in.expires_in,
        user=User.of(signed_in.user, signed_in.caller),
    )
