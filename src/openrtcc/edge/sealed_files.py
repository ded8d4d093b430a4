"""The sealed segment file: AES-256-GCM in chunks, so a crash loses at most the unsealed tail and any change,
reordering, splice or cut of the file is detected.

Layout: header = magic "RTCCSEG\\0", version (1 byte), day (10 ASCII bytes, YYYY-MM-DD), random 8-byte nonce
prefix, start time (8 bytes, microseconds since the epoch), container name length and segment id length
(1 byte each), the container name and the id. The header is authenticated with every record, and lets a
file whose index row was lost (a power cut undoes the last SQLite commits) be indexed again.
Then records: a 4-byte big-endian word (ciphertext length, top bit set on the final record) and the
ciphertext with its 16-byte tag. Record i is sealed with nonce = prefix + i (4 bytes) and AAD = header + i +
final flag, so records cannot be moved, dropped from the middle, moved between files or promoted to final.
A file without its final record was cut short (a crash): the reader returns the whole records and says so;
the index knows whether the writer had closed it (then a missing final record is tampering).
"""

from __future__ import annotations

import os
import struct
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

MAGIC = b"RTCCSEG\x00"
VERSION = 1
_FIXED = struct.Struct(">8sB10s8sqBB")
_WORD = struct.Struct(">I")
_AAD_TAIL = struct.Struct(">IB")
FINAL_BIT = 1 << 31
TAG_BYTES = 16
CHUNK_BYTES = 256 * 1024  # sealed at least this often; flush() seals whatever is buffered
MAX_RECORD_BYTES = 4 * 1024 * 1024  # plaintext per record; bigger writes are split
MAX_ID_BYTES = 64


class TamperedSegment(Exception):
    """The file is not what this box wrote: a tag did not verify, or its structure was changed."""


class EmptySegment(Exception):
    """The file ends inside its header: nothing was ever sealed in it (a crash right after creation)."""


@dataclass(frozen=True, slots=True)
class SealedHeader:
    segment_id: str
    day: date
    started_at: datetime
    container: str
    nonce_prefix: bytes
    raw: bytes

    def nonce(self, index: int) -> bytes:
        return self.nonce_prefix + index.to_bytes(4, "big")

    def aad(self, index: int, final: bool) -> bytes:
        return self.raw + _AAD_TAIL.pack(index, 1 if final else 0)


def make_header(segment_id: str, day: date, started_at: datetime, container: str) -> SealedHeader:
    sid, cont = segment_id.encode(), container.encode()
    if not 0 < len(sid) <= MAX_ID_BYTES or not 0 < len(cont) <= 32:
        raise ValueError("a segment id is 1 to 64 bytes, a container name 1 to 32")
    prefix = os.urandom(8)
    started_us = round(started_at.timestamp() * 1_000_000)
    raw = _FIXED.pack(MAGIC, VERSION, day.isoformat().encode(), prefix, started_us, len(cont), len(sid)) + cont + sid
    return SealedHeader(segment_id, day, started_at, container, prefix, raw)


def read_header(f: BinaryIO) -> SealedHeader:
    fixed = f.read(_FIXED.size)
    if len(fixed) < _FIXED.size:
        if fixed and not MAGIC.startswith(fixed[:len(MAGIC)]):
            raise TamperedSegment("not a sealed segment file")
        raise EmptySegment("the segment file ends inside its header")
    magic, version, day_s, prefix, started_us, cont_len, id_len = _FIXED.unpack(fixed)
    if magic != MAGIC:
        raise TamperedSegment("not a sealed segment file")
    if version != VERSION:
        raise TamperedSegment(f"unknown sealed segment version {version}")
    rest = f.read(cont_len + id_len)
    if len(rest) < cont_len + id_len:
        raise EmptySegment("the segment file ends inside its header")
    try:
        day = date.fromisoformat(day_s.decode("ascii"))
        started_at = datetime.fromtimestamp(started_us / 1_000_000, UTC)
        container, segment_id = rest[:cont_len].decode("ascii"), rest[cont_len:].decode()
    except (UnicodeDecodeError, ValueError, OverflowError, OSError):
        raise TamperedSegment("the segment header is damaged") from None
    return SealedHeader(segment_id, day, started_at, container, prefix, fixed + rest)


def _write_all(f: BinaryIO, data: bytes) -> None:
    """An unbuffered file may take part of a write (a disk filling up): write the rest, or raise."""
    view = memoryview(data)
    while view:
        n = f.write(view)
        if n is None:
            raise BlockingIOError("the segment file would block")
        view = view[n:]


class SealedWriter:
    """Buffers what the muxer writes and seals it every CHUNK_BYTES, on flush() and on close().

    `before_seal(n)` is called with the size of each record before it is written (the store checks its
    budget there and may raise). `sealed_bytes` is the file length up to the last whole record: after a
    failed write the caller truncates the file there.
    """

    def __init__(self, f: BinaryIO, key: bytes, segment_id: str, day: date, started_at: datetime,
                 container: str, *, before_seal: Callable[[int], None] | None = None,
                 chunk_bytes: int = CHUNK_BYTES):
        self._f = f
        self._aead = AESGCM(key)
        self._header = make_header(segment_id, day, started_at, container)
        self._before_seal = before_seal
        self._chunk = chunk_bytes
        self._buf = bytearray()
        self._index = 0
        self.closed = False
        if before_seal:
            before_seal(len(self._header.raw))
        _write_all(f, self._header.raw)
        self.sealed_bytes = len(self._header.raw)

    @property
    def records(self) -> int:
        return self._index

    def write(self, data: bytes) -> int:
        if self.closed:
            raise ValueError("write to a closed segment")
        self._buf += data
        if len(self._buf) >= self._chunk:
            self._seal(final=False)
        return len(data)

    def flush(self) -> None:
        if self._buf and not self.closed:
            self._seal(final=False)
        self._f.flush()

    def close(self) -> None:
        """Seal what is left as the final record; the file is then complete."""
        if self.closed:
            return
        self._seal(final=True)
        self._f.flush()
        self.closed = True

    def _seal(self, final: bool) -> None:
        view = memoryview(self._buf)
        start = 0
        while True:
            piece = view[start:start + MAX_RECORD_BYTES]
            start += len(piece)
            last = start >= len(view)
            self._write_record(bytes(piece), final and last)
            if last:
                break
        view.release()
        self._buf = bytearray()

    def _write_record(self, plaintext: bytes, final: bool) -> None:
        i = self._index
        sealed = self._aead.encrypt(self._header.nonce(i), plaintext, self._header.aad(i, final))
        word = _WORD.pack(len(sealed) | (FINAL_BIT if final else 0))
        if self._before_seal:
            self._before_seal(len(word) + len(sealed))
        _write_all(self._f, word + sealed)
        self._index += 1
        self.sealed_bytes += len(word) + len(sealed)


class SealedReader:
    """Yields the plaintext of each record. After iterating: `complete` (the final record was there) and
    `good_bytes` (the file length up to the last whole record)."""

    def __init__(self, f: BinaryIO, key_for: Callable[[date], bytes]):
        self._f = f
        self.header = read_header(f)
        self._aead = AESGCM(key_for(self.header.day))
        self.complete = False
        self.good_bytes = len(self.header.raw)

    def records(self) -> Iterator[bytes]:
        index = 0
        while True:
            word = self._f.read(4)
            if len(word) < 4:
                return  # cut short after a whole record: a crash, or the file is still being written
            (n,) = _WORD.unpack(word)
            final, length = bool(n & FINAL_BIT), n & ~FINAL_BIT
            if length == 0 and not self._rest_is_zero():
                raise TamperedSegment(f"record {index} has an impossible length")
            if length == 0:
                return  # a zero-filled tail left by a power cut
            if length < TAG_BYTES or length > MAX_RECORD_BYTES + TAG_BYTES:
                raise TamperedSegment(f"record {index} has an impossible length")
            sealed = self._f.read(length)
            if len(sealed) < length:
                return  # the last record was being written when the box stopped
            try:
                plaintext = self._aead.decrypt(self.header.nonce(index), sealed, self.header.aad(index, final))
            except InvalidTag:
                raise TamperedSegment(f"record {index} does not verify: the segment was altered") from None
            self.good_bytes += 4 + length
            yield plaintext
            index += 1
            if final:
                if self._f.read(1):
                    raise TamperedSegment("data follows the final record")
                self.complete = True
                return

    def _rest_is_zero(self) -> bool:
        here = self._f.tell()
        while chunk := self._f.read(65536):
            if chunk.strip(b"\0"):
                self._f.seek(here)
                return False
        return True


class PlaintextStream:
    """A forward-only binary file over decrypted records (what PyAV's demuxer reads from)."""

    def __init__(self, records: Iterator[bytes]):
        self._records = records
        self._buf = bytearray()
        self._pos = 0
        self._done = False

    def readable(self) -> bool:
        return True

    def read(self, n: int = -1) -> bytes:
        while not self._done and (n < 0 or len(self._buf) - self._pos < n):
            nxt = next(self._records, None)
            if nxt is None:
                self._done = True
                break
            del self._buf[:self._pos]
            self._pos = 0
            self._buf += nxt
        end = len(self._buf) if n < 0 else min(len(self._buf), self._pos + n)
        out = bytes(self._buf[self._pos:end])
        self._pos = end
        return out

    def close(self) -> None:
        self._done = True
        close = getattr(self._records, "close", None)
        if close:
            close()
