"""Commands that change data from the shell, through the same domain functions as the API."""

import argparse

from db.engine import create_engine, session_factory
from db.enums import Role
from domain.users import create_user
from services.settings import Settings


async def create_user_command(settings: Settings, args: argparse.Namespace) -> None:
    engine = create_engine(settings.require_database_url(), pool_size=1)
    try:
        async with session_factory(engine).begin() as session:
            new = await create_user(
                session,
                email=args.email,
                password=args.password,
                role=Role(args.role.upper()),
                name=args.name,
                specialty=args.specialty,
                date_of_birth=args.date_of_birth,
                phone=args.phone,
            )
        print(f"created {new.user.role.value.lower()} {new.user.email} ({new.user.id})")
    finally:
        await engine.dispose()
