"""Presigned S3 URLs for documents: PUT to upload (to a staging key), GET to read.

botocore spends 120-250 µs signing one URL, nearly all of it Python. A GET URL is
reused until half its lifetime has passed, so a page of a hundred records read
again signs nothing, and the browser sees the same URL and can use its cache.
"""

import base64
import time
import uuid
from collections import OrderedDict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import TYPE_CHECKING
from urllib.parse import quote

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

UPLOAD_URL_SECONDS = 15 * 60


@dataclass(frozen=True, slots=True)
class UploadTicket:
    url: str
    headers: dict[str, str]
    expires_at: datetime


def content_disposition(file_name: str) -> str:
    """``attachment`` with the name, ASCII-safe plus RFC 6266's UTF-8 form."""
    ascii_name = file_name.encode("ascii", "replace").decode().replace('"', "'").replace("?", "_")
    return f"attachment; filename=\"{ascii_name}\"; filename*=UTF-8''{quote(file_name)}"


class DocumentLinks:
    def __init__(
        self, s3: "S3Client", bucket: str, lifetime_seconds: int, max_entries: int = 50_000
    ) -> None:
        self._s3 = s3
        self._bucket = bucket
        self._lifetime = lifetime_seconds
        self._max_entries = max_entries
        # (key, caller's id as an int) -> (url, reuse until, monotonic seconds). The int,
        # not the UUID: a UUID hashes in Python, twice a record of a page read again.
        self._issued: OrderedDict[tuple[str, int], tuple[str, float]] = OrderedDict()

    async def read_url(self, key: str, file_name: str, caller_id: uuid.UUID) -> str:
        cache_key = (key, caller_id.int)
        now = time.monotonic()
        issued = self._issued.get(cache_key)
        if issued is not None and issued[1] > now:
            self._issued.move_to_end(cache_key)
            return issued[0]
        url = await self._s3.generate_presigned_url(
            "get_object",
            Params={
                "Bucket": self._bucket,
                "Key": key,
                "ResponseContentDisposition": content_disposition(file_name),
            },
            ExpiresIn=self._lifetime,
        )
        self._issued[cache_key] = (url, now + self._lifetime / 2)
        self._issued.move_to_end(cache_key)
        while len(self._issued) > self._max_entries:
            self._issued.popitem(last=False)
        return url

    async def read_urls(
        self, documents: Sequence[tuple[str, str]], caller_id: uuid.UUID
    ) -> list[str]:
        """:meth:`read_url` for a whole page of (key, file name): the links still fresh
        in one pass over the cache, then the others signed."""
        now = time.monotonic()
        caller = caller_id.int
        urls: list[str | None] = []
        for key, _ in documents:
            issued = self._issued.get((key, caller))
            if issued is not None and issued[1] > now:
                self._issued.move_to_end((key, caller))
                urls.append(issued[0])
            else:
                urls.append(None)
        signed: list[str] = []
        for (key, file_name), url in zip(documents, urls, strict=True):
            signed.append(
                url if url is not None else await self.read_url(key, file_name, caller_id)
            )
        return signed

    async def upload_ticket(
        self, key: str, content_type: str, sha256: str | None = None
    ) -> UploadTicket:
        """A PUT URL for ``key``. With ``sha256`` (hex), the checksum header is signed
        into the URL: S3 refuses a body whose SHA-256 differs, or a PUT without it."""
        params = {"Bucket": self._bucket, "Key": key, "ContentType": content_type}
        headers = {"Content-Type": content_type}
        if sha256 is not None:
            checksum = base64.b64encode(bytes.fromhex(sha256)).decode()
            params["ChecksumSHA256"] = checksum
            headers["x-amz-checksum-sha256"] = checksum
        url = await self._s3.generate_presigned_url(
            "put_object", Params=params, ExpiresIn=UPLOAD_URL_SECONDS
        )
        return UploadTicket(
            url=url,
            headers=headers,
            expires_at=datetime.now(UTC) + timedelta(seconds=UPLOAD_URL_SECONDS),
        )
