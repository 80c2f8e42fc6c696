"""A document's name in the persisted-query protocols: the SHA-256 of its UTF-8 text."""

import hashlib
import re

_SHA256 = re.compile(r"[0-9a-f]{64}")


def document_hash(document: str) -> str:
    return hashlib.sha256(document.encode()).hexdigest()


def is_document_hash(text: str) -> bool:
    """64 lowercase hex digits, as Apollo's clients send them."""
    return _SHA256.fullmatch(text) is not None
