"""Automatic persisted queries: documents by hash in Redis, which every API process
shares, and the most recent in a small LRU in each process.

Bounded: at most ``MAX_DOCUMENTS`` documents of at most ``MAX_DOCUMENT_BYTES`` each
(32 MiB in all). Storing one more drops the least recently used (stored, or fetched by
a process that did not have it). A longer document still runs; it is not stored, so
its client sends the text each time. Redis down: nothing is found or stored, so clients
send their documents in full, which keeps working.
"""

import hashlib
import logging
from collections import OrderedDict

from redis.asyncio import Redis
from redis.exceptions import NoScriptError, RedisError

logger = logging.getLogger("services.persisted_documents")

MAX_DOCUMENTS = 2000
MAX_DOCUMENT_BYTES = 16 * 1024
# Per process: far more than the documents of every frontend together.
RECENT_DOCUMENTS = 512

_DOCUMENTS = "apq:documents"  # hash: sha256 -> document
_USED = "apq:used"  # sorted set: sha256 by when it was last stored or fetched

# KEYS: documents, used. ARGV: sha256, document, the most documents kept.
_STORE = """
local now = redis.call('TIME')
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('ZADD', KEYS[2], now[1] + now[2] / 1000000, ARGV[1])
local extra = redis.call('ZCARD', KEYS[2]) - tonumber(ARGV[3])
if extra > 0 then
  local oldest = redis.call('ZPOPMIN', KEYS[2], extra)
  for i = 1, #oldest, 2 do redis.call('HDEL', KEYS[1], oldest[i]) end
end
return 0
"""
# KEYS: documents, used. ARGV: sha256.
_FETCH = """
local document = redis.call('HGET', KEYS[1], ARGV[1])
if document then
  local now = redis.call('TIME')
  redis.call('ZADD', KEYS[2], 'XX', now[1] + now[2] / 1000000, ARGV[1])
end
return document
"""


class PersistedDocuments:
    def __init__(self) -> None:
        self._recent: OrderedDict[str, str] = OrderedDict()

    def recent(self, sha256: str) -> str | None:
        """The document if this process saw it lately: no round trip."""
        document = self._recent.get(sha256)
        if document is not None:
            self._recent.move_to_end(sha256)
        return document

    async def find(self, redis: "Redis", sha256: str) -> str | None:
        document = self.recent(sha256)
        if document is not None:
            return document
        try:
            fetched = await _run(redis, _FETCH, sha256)
        except RedisError as error:
            logger.warning("persisted documents unavailable: %s", type(error).__name__)
            return None
        if fetched is None:
            return None
        document = fetched.decode() if isinstance(fetched, bytes) else str(fetched)
        self._remember(sha256, document)
        return document

    async def store(self, redis: "Redis", sha256: str, document: str) -> None:
        """Keep ``document`` (whose hash the caller checked) for every process; best effort."""
        if sha256 in self._recent or len(document.encode()) > MAX_DOCUMENT_BYTES:
            return
        try:
            await _run(redis, _STORE, sha256, document, str(MAX_DOCUMENTS))
        except RedisError as error:
            logger.warning("persisted document not stored: %s", type(error).__name__)
            return
        self._remember(sha256, document)

    def _remember(self, sha256: str, document: str) -> None:
        self._recent[sha256] = document
        if len(self._recent) > RECENT_DOCUMENTS:
            self._recent.popitem(last=False)


async def _run(redis: "Redis", script: str, *arguments: str) -> object:
    keys = (_DOCUMENTS, _USED)
    sha1 = hashlib.sha1(script.encode()).hexdigest()  # noqa: S324 - Redis names scripts by SHA-1
    try:
        return await redis.evalsha(sha1, len(keys), *keys, *arguments)  # type: ignore[misc]
    except NoScriptError:  # a restarted Redis has forgotten it; EVAL teaches it again
        return await redis.eval(script, len(keys), *keys, *arguments)  # type: ignore[misc]
