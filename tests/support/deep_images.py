"""Small files that decode to huge 16-bit and float images (sample-depth amplification).

Built byte by byte, without ever holding the image in memory, so that a test can make a
100-megapixel one in a fraction of a second and a few hundred KiB.
"""

from __future__ import annotations

import struct
import zlib

_ZLIB_HEADER = b"\x78\xda"  # deflate, 32 KiB window, best compression


def _chunk(kind: bytes, body: bytes) -> bytes:
    return struct.pack(">I", len(body)) + kind + body + struct.pack(">I", zlib.crc32(kind + body))


def deep_png(width: int, height: int) -> bytes:
    """A 16-bit greyscale PNG of a horizontal ramp repeated on every row.

    Rows after the first use PNG's Up filter, so they are all zeros: one block of them is
    compressed once, ended by a full flush (so it refers to nothing before it), and repeated.
    """
    first = b"\x00" + b"".join(struct.pack(">H", (x * 6553) % 65536) for x in range(width))
    rest = b"\x02" + bytes(2 * width)
    block_rows = max(1, min(height - 1, 512))
    blocks, extra = divmod(height - 1, block_rows)
    packer = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = packer.compress(first) + packer.flush(zlib.Z_FULL_FLUSH)
    block = packer.compress(rest * block_rows) + packer.flush(zlib.Z_FULL_FLUSH)
    tail = packer.compress(rest * extra) + packer.flush()
    checksum = zlib.adler32(first)
    for _ in range(blocks):
        checksum = zlib.adler32(rest * block_rows, checksum)
    checksum = zlib.adler32(rest * extra, checksum)
    stream = _ZLIB_HEADER + head + block * blocks + tail + struct.pack(">I", checksum)
    header = struct.pack(">IIBBBBB", width, height, 16, 0, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + _chunk(b"IHDR", header)
        + _chunk(b"IDAT", stream)
        + _chunk(b"IEND", b"")
    )


def float_tiff(width: int, height: int, rows_per_strip: int = 16) -> bytes:
    """An uncompressed 32-bit float greyscale TIFF (samples 0-1) whose strips all point at
    the same bytes, so the file holds one strip however many rows the image declares."""
    strip = b"".join(struct.pack("<f", (x % 256) / 255.0) for x in range(width)) * rows_per_strip
    strips = -(-height // rows_per_strip)
    entries = [
        (256, 4, 1, width),  # ImageWidth
        (257, 4, 1, height),  # ImageLength
        (258, 3, 1, 32),  # BitsPerSample
        (259, 3, 1, 1),  # Compression: none
        (262, 3, 1, 1),  # PhotometricInterpretation: black is zero
        (273, 4, strips, 0),  # StripOffsets: filled in below
        (277, 3, 1, 1),  # SamplesPerPixel
        (278, 4, 1, rows_per_strip),  # RowsPerStrip
        (279, 4, strips, 0),  # StripByteCounts: filled in below
        (339, 3, 1, 3),  # SampleFormat: IEEE float
    ]
    offsets_at = 8 + 2 + 12 * len(entries) + 4
    counts_at = offsets_at + 4 * strips
    strip_at = counts_at + 4 * strips
    ifd = struct.pack("<H", len(entries))
    for tag, kind, count, given in entries:
        value = {273: offsets_at, 279: counts_at}.get(tag, given)
        packed = struct.pack("<I", value) if kind == 4 else struct.pack("<HH", value, 0)
        ifd += struct.pack("<HHI", tag, kind, count) + packed
    return (
        b"II*\x00"
        + struct.pack("<I", 8)
        + ifd
        + struct.pack("<I", 0)
        + struct.pack(f"<{strips}I", *([strip_at] * strips))
        + struct.pack(f"<{strips}I", *([len(strip)] * strips))
        + strip
    )
