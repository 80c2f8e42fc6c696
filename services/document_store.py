"""The S3 objects behind medical records: what is stored, a server-side copy, reading
the bytes back, deleting.

An upload URL writes to a staging key; confirmation copies the object, inside S3, to
the record's key, which no URL we issue can write to (domain/record_confirmation.py).
"""

from collections.abc import AsyncGenerator
from dataclasses import dataclass
from typing import TYPE_CHECKING

from botocore.exceptions import ClientError

if TYPE_CHECKING:
    from types_aiobotocore_s3 import S3Client

CHUNK_BYTES = 1024 * 1024
_MISSING = frozenset({"404", "NoSuchKey", "NotFound"})


@dataclass(frozen=True, slots=True)
class StoredObject:
    size: int
    content_type: str


class DocumentStore:
    def __init__(self, s3: "S3Client", bucket: str) -> None:
        self._s3 = s3
        self._bucket = bucket

    async def stored(self, key: str) -> StoredObject | None:
        try:
            head = await self._s3.head_object(Bucket=self._bucket, Key=key)
        except ClientError as error:
            if error.response.get("Error", {}).get("Code") in _MISSING:
                return None
            raise
        return StoredObject(size=head["ContentLength"], content_type=head.get("ContentType", ""))

    async def copy(self, source: str, target: str) -> None:
        """Inside S3: the bytes never pass through this process. Content type kept."""
        await self._s3.copy_object(
            Bucket=self._bucket, Key=target, CopySource={"Bucket": self._bucket, "Key": source}
        )

    async def chunks(self, key: str, *, first_bytes: int | None = None) -> AsyncGenerator[bytes]:
        """The object's bytes in order: all of them, or only the first ``first_bytes``."""
        if first_bytes is None:
            response = await self._s3.get_object(Bucket=self._bucket, Key=key)
        else:
            response = await self._s3.get_object(
                Bucket=self._bucket, Key=key, Range=f"bytes=0-{first_bytes - 1}"
            )
        async with response["Body"] as body:
            while chunk := await body.read(CHUNK_BYTES):
                yield chunk

    async def delete(self, key: str) -> None:
        await self._s3.delete_object(Bucket=self._bucket, Key=key)
