"""An image's size read from its header, so that a logo is checked before anything decodes it."""

from __future__ import annotations

import struct
from pathlib import Path

from optimizer.scenario.reads import note_read

MAX_LOGO_PIXELS = 25_000_000
"""The most pixels a logo may have (5,000 x 5,000): a report shows it a few centimetres wide, and a
decoder needs several bytes a pixel (a 20,000 x 20,000 image would take over a gigabyte)."""

_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_JPEG_FRAMES = {0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF}
"""The JPEG start-of-frame markers, which hold the image's height and width (C4, C8 and CC are not frames)."""
_JPEG_STANDALONE = {0x01, *range(0xD0, 0xD8)}
"""Markers with no length field after them (TEM and the restart markers)."""


def image_size(path: Path) -> tuple[int, int] | None:
    """The width and height of the PNG or JPEG image at ``path`` from its header, or None when the file
    is neither (or its header is cut short). Reads at most the header, never the pixels."""
    note_read(path)
    with open(path, "rb") as stream:
        head = stream.read(len(_PNG_SIGNATURE))
        if head == _PNG_SIGNATURE:
            return _png_size(stream)
        if head[:2] == b"\xff\xd8":
            stream.seek(2)
            return _jpeg_size(stream)
    return None


def _png_size(stream) -> tuple[int, int] | None:  # noqa: ANN001 - a binary file
    chunk = stream.read(16)  # the IHDR chunk comes first: length, type, width, height
    if len(chunk) < 16 or chunk[4:8] != b"IHDR":
        return None
    width, height = struct.unpack(">II", chunk[8:16])
    return width, height


def _jpeg_size(stream) -> tuple[int, int] | None:  # noqa: ANN001 - a binary file
    while True:
        byte = stream.read(1)
        while byte == b"\xff":  # fill bytes may pad a marker
            byte = stream.read(1)
        if not byte:
            return None
        marker = byte[0]
        if marker in _JPEG_STANDALONE:
            continue
        length_bytes = stream.read(2)
        if len(length_bytes) < 2:
            return None
        (length,) = struct.unpack(">H", length_bytes)
        if marker in _JPEG_FRAMES:
            frame = stream.read(5)  # precision, height, width
            if len(frame) < 5:
                return None
            height, width = struct.unpack(">HH", frame[1:5])
            return width, height
        if marker == 0xDA or length < 2:  # the scan begins before any frame: not a readable JPEG
            return None
        stream.seek(length - 2, 1)
        if stream.read(1) != b"\xff":
            return None


def logo_size_problem(path: Path) -> str | None:
    """Why the logo at ``path`` cannot be used (not a PNG or JPEG image, or too many pixels), or None."""
    try:
        size = image_size(path)
    except OSError as error:
        return f"cannot be read ({error.strerror or error})"
    if size is None:
        return "is not a PNG or JPEG image (its first bytes say otherwise)"
    width, height = size
    if width == 0 or height == 0:
        return "is an empty image (0 pixels wide or high)"
    if width * height > MAX_LOGO_PIXELS:
        return (f"is {width:,} x {height:,} pixels, more than a report can show "
                f"(at most {MAX_LOGO_PIXELS:,} pixels)")
    return None
