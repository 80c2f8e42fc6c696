"""Which document a request runs, from its ``query`` and ``extensions.persistedQuery``
(Apollo's automatic persisted queries), and whether it may run at all (trusted documents)."""

from collections.abc import Mapping

from redis.asyncio import Redis

from services.errors import BadUserInput, PersistedQueryNotFound
from services.persisted_documents.hashes import document_hash, is_document_hash
from services.persisted_documents.store import PersistedDocuments

BAD_VERSION = "Only version 1 of persisted queries is supported."
BAD_HASH = "persistedQuery.sha256Hash must be a SHA-256 in lowercase hex."
HASH_MISMATCH = "persistedQuery.sha256Hash is not the SHA-256 of the query sent with it."


class KnownDocuments:
    """One per API process. With ``trusted`` (hash -> document) only those run and
    nothing is stored; without, any document runs and those sent with their hash are
    stored for every process."""

    def __init__(self, trusted: Mapping[str, str] | None) -> None:
        self.trusted = trusted
        self.persisted = PersistedDocuments()

    async def document(
        self, redis: "Redis", query: str | None, extensions: Mapping[str, object] | None
    ) -> str | None:
        """The document to run (None when the request names none), or PERSISTED_QUERY_NOT_FOUND,
        or BAD_USER_INPUT for a malformed or mismatched ``persistedQuery``."""
        persisted = (extensions or {}).get("persistedQuery")
        if persisted is None:
            trusted = self.trusted
            if query is not None and trusted is not None and document_hash(query) not in trusted:
                raise PersistedQueryNotFound
            return query
        sha256 = persisted_hash(persisted)
        if query is not None:
            if document_hash(query) != sha256:
                raise BadUserInput(HASH_MISMATCH)
            if self.trusted is not None and sha256 not in self.trusted:
                raise PersistedQueryNotFound
            return query
        if self.trusted is not None:
            document = self.trusted.get(sha256)
        else:
            document = await self.persisted.find(redis, sha256)
        if document is None:
            raise PersistedQueryNotFound
        return document

    async def register(self, redis: "Redis", sha256: str, document: str) -> None:
        """Keep a document that passed the door (parsed, valid, within cost and budgets)
        for requests by hash alone; trusted documents are all the API runs."""
        if self.trusted is not None or self.persisted.recent(sha256) is not None:
            return
        if document_hash(document) == sha256:
            await self.persisted.store(redis, sha256, document)


def persisted_hash(persisted: object) -> str:
    """The ``sha256Hash`` of a well-formed ``extensions.persistedQuery``."""
    version = persisted.get("version") if isinstance(persisted, dict) else None
    if not isinstance(persisted, dict) or isinstance(version, bool) or version != 1:
        raise BadUserInput(BAD_VERSION)
    sha256 = persisted.get("sha256Hash")
    if not isinstance(sha256, str) or not is_document_hash(sha256):
        raise BadUserInput(BAD_HASH)
    return sha256
