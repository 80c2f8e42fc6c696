"""Real PostgreSQL, Redis and S3 servers run as child processes, for dev and tests."""

from devtools.embedded.stack import EmbeddedStack

__all__ = ["EmbeddedStack"]
