"""How the process runs: the ASGI app and its HTTP middleware, the CLI commands."""
