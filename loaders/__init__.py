"""Per-request DataLoaders: each batch runs one statement, aligned with its keys."""

from loaders.registry import Loaders

__all__ = ["Loaders"]
