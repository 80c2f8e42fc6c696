"""Persistence: the data model, engines and sessions, migrations."""
