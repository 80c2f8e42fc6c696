"""``MEDAPPT_TRUSTED_DOCUMENTS``: the only documents an API may run, read once at start.

The file is a JSON object mapping each document's SHA-256 (64 lowercase hex digits, of
its UTF-8 text) to the document. Anything wrong with it stops start-up with one line
naming the variable: a list that silently lost an entry would refuse a frontend's
query in production.
"""

import json
from collections.abc import Mapping
from pathlib import Path
from types import MappingProxyType

from services.persisted_documents.hashes import document_hash, is_document_hash


class TrustedDocumentsError(ValueError):
    """The file cannot be used; the message is one line."""


def load_trusted_documents(path: Path) -> Mapping[str, str]:
    """The documents of the file at ``path``, by hash; read-only."""
    try:
        raw = path.read_bytes()
    except OSError as error:
        raise TrustedDocumentsError(f"cannot read {str(path)!r}: {error.strerror}") from None
    try:
        listed = json.loads(raw)
    except (ValueError, RecursionError):
        raise TrustedDocumentsError(f"{str(path)!r} is not JSON") from None
    if not isinstance(listed, dict):
        raise TrustedDocumentsError(f"{str(path)!r} must hold a JSON object {{sha256: document}}")
    for sha, document in listed.items():
        if not is_document_hash(sha):
            raise TrustedDocumentsError(f"{sha[:80]!r} is not a SHA-256 in lowercase hex")
        if not isinstance(document, str) or not document.strip():
            raise TrustedDocumentsError(f"the document of {sha} is not a non-empty string")
        if document_hash(document) != sha:
            raise TrustedDocumentsError(f"{sha} is not the SHA-256 of its document")
    return MappingProxyType(listed)


def trusted_documents_file(documents: list[str]) -> str:
    """The file's text listing ``documents``, sorted by hash so that a rebuilt list
    diffs cleanly (``medappt trusted-documents``)."""
    listed = {document_hash(document): document for document in documents}
    return json.dumps(dict(sorted(listed.items())), indent=2) + "\n"
