"""Whether a document's bytes are what its declared type says, and what its declared
SHA-256 says: checked as they stream by, so a 50 MiB file is never held whole.

Leading bytes must be identified as the declared type by puremagic and also carry the
contract's signature: puremagic alone is lax for a check that keeps executables out
(it takes ``%PDF`` after a line break, two bytes ``FFD8`` for a JPEG, and the
escaped text ``\\x89PNG`` for a PNG). Plain text is valid UTF-8 without NUL, which
only the whole file can show.
"""

import codecs
import hashlib
import hmac
from collections.abc import AsyncIterable
from typing import Final

import puremagic

TEXT: Final = "text/plain"
# (offset, bytes) of each type's signature, as the contract names them.
SIGNATURES: Final = {
    "application/pdf": (0, b"%PDF-"),
    "image/png": (0, b"\x89PNG\r\n\x1a\n"),
    "image/jpeg": (0, b"\xff\xd8\xff"),
    # A 128-byte preamble, then the marker.
    "application/dicom": (128, b"DICM"),
}
LEADING_BYTES: Final = max(offset + len(signature) for offset, signature in SIGNATURES.values())


def _identified(content_type: str, head: bytes) -> bool:
    offset, signature = SIGNATURES[content_type]
    if head[offset : offset + len(signature)] != signature:
        return False
    try:
        matches = puremagic.magic_string(head)
    except puremagic.PureError:  # nothing it knows
        return False
    # Header patterns only (a footer's offset counts from the end: negative).
    return any(m.mime_type == content_type and m.offset >= 0 for m in matches)


async def content_problem(
    content_type: str, chunks: AsyncIterable[bytes], sha256: str | None
) -> str | None:
    """What is wrong with the bytes of ``chunks`` for a document of ``content_type`` and
    (when given) lowercase hex ``sha256``, as a sentence, or None."""
    digest = hashlib.sha256()
    text = codecs.getincrementaldecoder("utf-8")() if content_type == TEXT else None
    head = b""
    try:
        async for chunk in chunks:
            if len(head) < LEADING_BYTES:
                head += chunk[: LEADING_BYTES - len(head)]
            digest.update(chunk)
            if text is not None:
                text.decode(chunk)
                if b"\x00" in chunk:
                    return "The uploaded text contains a NUL byte."
        if text is not None:
            text.decode(b"", final=True)
    except UnicodeDecodeError:
        return "The uploaded text is not valid UTF-8."
    if text is None and not _identified(content_type, head):
        return f"The uploaded document's first bytes are not those of {content_type}."
    if sha256 is not None and not hmac.compare_digest(digest.hexdigest(), sha256):
        return "The uploaded document does not match the declared sha256."
    return None


def needs_every_byte(content_type: str, sha256: str | None) -> bool:
    """Whether the check reads the whole document, or only its first bytes."""
    return content_type == TEXT or sha256 is not None
