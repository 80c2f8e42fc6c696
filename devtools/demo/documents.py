"""Small but real documents for the demo records, made with the standard library alone."""

import colorsys
import struct
import zlib

_PAGE_WIDTH, _PAGE_HEIGHT = 612, 792  # US Letter in points
_MARGIN = 72
_TITLE_SIZE, _TEXT_SIZE, _LEADING = 18, 11, 16


def render_pdf(title: str, lines: list[str]) -> bytes:
    """A one-page PDF 1.4 showing ``title`` in bold and ``lines`` below it, in Helvetica."""
    text = [b"BT", b"/F1 %d Tf" % _TITLE_SIZE, b"%d %d Td" % (_MARGIN, _PAGE_HEIGHT - _MARGIN)]
    text.append(_pdf_string(title) + b" Tj")
    text.append(b"/F2 %d Tf" % _TEXT_SIZE)
    # The first line sits further down, clear of the larger title.
    text.append(b"0 %d Td" % -(2 * _LEADING))
    for index, line in enumerate(lines):
        if index:
            text.append(b"0 %d Td" % -_LEADING)
        text.append(_pdf_string(line) + b" Tj")
    text.append(b"ET")
    content = b"\n".join(text)

    objects = [
        b"<< /Type /Catalog /Pages 2 0 R >>",
        b"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
        b"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 %d %d]"
        b" /Resources << /Font << /F1 5 0 R /F2 6 0 R >> >> /Contents 4 0 R >>"
        % (_PAGE_WIDTH, _PAGE_HEIGHT),
        b"<< /Length %d >>\nstream\n%s\nendstream" % (len(content), content),
        # The standard 14 fonts need no embedding; WinAnsi covers the accents in the names.
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica-Bold /Encoding /WinAnsiEncoding >>",
        b"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
        b"<< /Title %s /Producer (medappt demo) >>" % _pdf_string(title),
    ]
    # The binary comment line tells transfer tools that the file is not plain text.
    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n%s\nendobj\n" % (number, body)
    xref_offset = len(out)
    # Every cross-reference entry is exactly 20 bytes, its end of line included.
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    out += b"".join(b"%010d 00000 n \n" % offset for offset in offsets)
    out += b"trailer\n<< /Size %d /Root 1 0 R /Info 7 0 R >>\n" % (len(objects) + 1)
    out += b"startxref\n%d\n%%%%EOF\n" % xref_offset
    return bytes(out)


def _pdf_string(text: str) -> bytes:
    encoded = text.encode("cp1252", errors="replace")
    escaped = encoded.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


_PNG_SIZE = 64
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_GOLDEN_RATIO_CONJUGATE = 0.618033988749895


def render_png(seed: int) -> bytes:
    """A 64x64 RGB image, a light disc on a dark gradient, its hue chosen by ``seed``."""
    # Stepping the hue by the golden ratio keeps consecutive seeds far apart in colour.
    hue = (seed * _GOLDEN_RATIO_CONJUGATE) % 1.0
    disc = _rgb(hue, 0.45, 0.95)
    centre, radius = (_PNG_SIZE - 1) / 2, _PNG_SIZE * 0.3
    raw = bytearray()
    for y in range(_PNG_SIZE):
        raw.append(0)  # filter type None for the scanline
        background = _rgb(hue, 0.7, 0.15 + 0.4 * y / _PNG_SIZE)
        for x in range(_PNG_SIZE):
            inside = (x - centre) ** 2 + (y - centre) ** 2 <= radius**2
            raw += disc if inside else background
    header = struct.pack(">IIBBBBB", _PNG_SIZE, _PNG_SIZE, 8, 2, 0, 0, 0)  # 8-bit truecolour
    return b"".join(
        (
            _PNG_SIGNATURE,
            _png_chunk(b"IHDR", header),
            _png_chunk(b"IDAT", zlib.compress(bytes(raw), 9)),
            _png_chunk(b"IEND", b""),
        )
    )


def _rgb(hue: float, saturation: float, value: float) -> bytes:
    return bytes(round(channel * 255) for channel in colorsys.hsv_to_rgb(hue, saturation, value))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))
