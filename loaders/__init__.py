"""Per-request DataLoaders: each batch runs one statement, aligned with its keys."""

from loaders.registry import Loaders, create_loaders

__all__ = ["Loaders", "create_loaders"]
