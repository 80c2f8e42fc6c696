"""The medappt service: ASGI app, settings and plumbing (auth, cache, storage, CLI)."""
