import strawberry

from db.models import User as UserRow
from schema.context import Context
from schema.types.user import User


async def resolve_me(info: strawberry.Info[Context]) -> User | None:
    caller = info.context.caller
    if caller is None:
        return None
    async with info.context.sessions() as session:
        row = await session.get(UserRow, caller.user_id)
    return User.of(row, caller) if row is not None else None
