"""The GraphQL schema: types, root fields and the extensions every request runs."""

from schema.build import build_schema

__all__ = ["build_schema"]
