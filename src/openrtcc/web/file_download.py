"""Stored media sent to a browser in fixed-size chunks: iterating a binary file yields "lines", which for
video means thousands of tiny, random-sized writes (a 660 KB clip took seconds)."""

from __future__ import annotations

from collections.abc import Iterator
from typing import BinaryIO

CHUNK_BYTES = 256 * 1024


def file_chunks(stream: BinaryIO, chunk_bytes: int = CHUNK_BYTES) -> Iterator[bytes]:
    """The stream's bytes in chunks; the stream is closed when the response is done (or abandoned)."""
    try:
        while chunk := stream.read(chunk_bytes):
            yield chunk
    finally:
        stream.close()
