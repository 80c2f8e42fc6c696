import strawberry

from domain.users import email_of
from schema.context import Context
from schema.types.user import User


async def resolve_me(info: strawberry.Info[Context]) -> User | None:
    caller = info.context.caller
    if caller is None:
        return None
    async with info.context.sessions() as session:
        email = await email_of(session, caller.user_id)
    return User.of(email, caller) if email is not None else None
