"""The sealed blob format: a 512-byte header holding the wrapped data key, then AES-256-GCM chunks.

    header  = b"RTCCSEAL" | format (1 byte) | length (2 bytes, big-endian) | canonical JSON | zero padding
    chunk i = nonce (12) | ciphertext of up to chunk_bytes | tag (16), AAD = label | i (8 bytes) | final (1 byte)

The data key is random per blob and wrapped (AES-256-GCM) by the agency's key with the header's fields and the
blob's media key as AAD, so a header edited, or a blob moved to another name or agency, does not unwrap. The chunk
index and the final flag in each chunk's AAD make reordered, dropped, duplicated or truncated chunks fail. The
header has a fixed size so a key rotation rewrites it in place without touching (or resurrecting) the content."""

from __future__ import annotations

import base64
import io
import json
import secrets
import struct
from dataclasses import dataclass
from typing import BinaryIO

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from openrtcc.adapters.storage.media_keys import AgencyKey
from openrtcc.domain.errors import TamperedMedia

MAGIC = b"RTCCSEAL"
FORMAT = 1
HEADER_BYTES = 512
CHUNK_BYTES = 1024 * 1024
NONCE = 12
TAG = 16
_WRAP_LABEL = b"rtcc-media-data-key/1\0"
_CHUNK_LABEL = b"rtcc-media-chunk/1\0"


@dataclass(frozen=True, slots=True)
class BlobHeader:
    agency_id: str
    key_version: int
    key_id: str
    chunk_bytes: int
    wrap_nonce: bytes
    wrapped_key: bytes

    def encode(self) -> bytes:
        doc = _canonical({"agency": self.agency_id, "key_version": self.key_version, "key_id": self.key_id,
                          "chunk_bytes": self.chunk_bytes, "wrap_nonce": base64.b64encode(self.wrap_nonce).decode(),
                          "wrapped_key": base64.b64encode(self.wrapped_key).decode()})
        head = MAGIC + bytes([FORMAT]) + struct.pack(">H", len(doc)) + doc
        if len(head) > HEADER_BYTES:
            raise ValueError("sealed header too long")
        return head.ljust(HEADER_BYTES, b"\0")

    def unwrap(self, media_key: str, key: AgencyKey) -> bytes:
        if key.key_id != self.key_id:
            raise TamperedMedia(f"{media_key}: sealed under key {self.key_id}, but version {self.key_version} of the "
                                f"agency's key is {key.key_id}", code="tampered_media")
        try:
            return AESGCM(key.key).decrypt(self.wrap_nonce, self.wrapped_key, _wrap_aad(media_key, self))
        except InvalidTag:
            raise TamperedMedia(f"{media_key}: the data key does not unwrap (the header was altered, or the file "
                                "was moved from another name or agency)") from None


def is_sealed(head: bytes) -> bool:
    return head.startswith(MAGIC)


def seal_header(media_key: str, agency: AgencyKey, data_key: bytes, chunk_bytes: int) -> BlobHeader:
    unwrapped = BlobHeader(agency.agency_id, agency.version, agency.key_id, chunk_bytes, secrets.token_bytes(NONCE),
                           b"")
    wrapped = AESGCM(agency.key).encrypt(unwrapped.wrap_nonce, data_key, _wrap_aad(media_key, unwrapped))
    return BlobHeader(**{**_fields(unwrapped), "wrapped_key": wrapped})


def parse_header(media_key: str, raw: bytes) -> BlobHeader:
    """The header's fields; anything but a canonical header this code could have written is tampering."""
    if len(raw) < HEADER_BYTES or not raw.startswith(MAGIC):
        raise TamperedMedia(f"{media_key}: the sealed header is damaged")
    if raw[8] != FORMAT:
        raise TamperedMedia(f"{media_key}: unknown sealed format {raw[8]}")
    (length,) = struct.unpack(">H", raw[9:11])
    doc, padding = raw[11:11 + length], raw[11 + length:HEADER_BYTES]
    try:
        fields = json.loads(doc)
        header = BlobHeader(fields["agency"], fields["key_version"], fields["key_id"], fields["chunk_bytes"],
                            base64.b64decode(fields["wrap_nonce"], validate=True),
                            base64.b64decode(fields["wrapped_key"], validate=True))
    except (ValueError, KeyError, TypeError, UnicodeDecodeError):
        raise TamperedMedia(f"{media_key}: the sealed header is damaged") from None
    if padding.strip(b"\0") or header.encode() != raw[:HEADER_BYTES] or not _plausible(header):
        raise TamperedMedia(f"{media_key}: the sealed header is damaged")
    return header


def _plausible(h: BlobHeader) -> bool:
    return (isinstance(h.key_version, int) and h.key_version > 0 and isinstance(h.chunk_bytes, int)
            and 1024 <= h.chunk_bytes <= 64 * CHUNK_BYTES and len(h.wrap_nonce) == NONCE and len(h.wrapped_key) == 48)


def _fields(h: BlobHeader) -> dict:
    return {name: getattr(h, name) for name in BlobHeader.__slots__}


def _canonical(doc: dict) -> bytes:
    return json.dumps(doc, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode()


def _wrap_aad(media_key: str, h: BlobHeader) -> bytes:
    return _WRAP_LABEL + _canonical({"agency": h.agency_id, "key_version": h.key_version, "key_id": h.key_id,
                                     "chunk_bytes": h.chunk_bytes, "media_key": media_key})


def chunk_aad(index: int, final: bool) -> bytes:
    return _CHUNK_LABEL + struct.pack(">QB", index, 1 if final else 0)


class SealingStream(io.RawIOBase):
    """Reads as the sealed blob of a plaintext stream (header, then chunks), counting and hashing the plaintext
    on the way: the store writes it like any stream and reports the plaintext's size and SHA-256."""

    def __init__(self, source: BinaryIO, header: BlobHeader, data_key: bytes, on_plain):
        self._source, self._aead, self._on_plain = source, AESGCM(data_key), on_plain
        self._chunk = header.chunk_bytes
        self._out = bytearray(header.encode())
        self._next = self._read_plain()
        self._index, self._done = 0, False

    def readable(self) -> bool:
        return True

    def _read_plain(self) -> bytes:
        parts, wanted = [], self._chunk
        while wanted and (piece := self._source.read(wanted)):
            parts.append(piece)
            wanted -= len(piece)
        data = b"".join(parts)
        self._on_plain(data)
        return data

    def _seal_next(self) -> None:
        current = self._next
        # one chunk of lookahead: only then is it known whether this chunk is the last one
        self._next = self._read_plain() if len(current) == self._chunk else b""
        final = not self._next
        nonce = secrets.token_bytes(NONCE)
        self._out += nonce + self._aead.encrypt(nonce, current, chunk_aad(self._index, final))
        self._index += 1
        self._done = final

    def read(self, size: int = -1) -> bytes:
        while not self._done and (size < 0 or len(self._out) < size):
            self._seal_next()
        size = len(self._out) if size < 0 else size
        piece = bytes(self._out[:size])
        del self._out[:size]
        return piece


class OpenedBlob(io.RawIOBase):
    """The plaintext of an authenticated sealed blob, read and seeked chunk by chunk (each chunk is checked again
    as it is read: a file altered after it was opened still cannot pass)."""

    def __init__(self, media_key: str, handle: BinaryIO, header: BlobHeader, data_key: bytes):
        self._key, self._f, self._aead = media_key, handle, AESGCM(data_key)
        self._chunk = header.chunk_bytes
        self._record = self._chunk + NONCE + TAG
        body = handle.seek(0, io.SEEK_END) - HEADER_BYTES  # any seekable store's handle: a file, an object
        self._chunks = max(1, -(-body // self._record))
        self.size = body - self._chunks * (NONCE + TAG)
        if body < NONCE + TAG or self.size < (self._chunks - 1) * self._chunk:
            raise TamperedMedia(f"{media_key}: the sealed file is truncated")
        self._pos, self._cached = 0, (-1, b"")

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def chunk(self, index: int) -> bytes:
        if self._cached[0] == index:
            return self._cached[1]
        self._f.seek(HEADER_BYTES + index * self._record)
        record = self._f.read(self._record)
        final = index == self._chunks - 1
        try:
            plain = self._aead.decrypt(record[:NONCE], record[NONCE:], chunk_aad(index, final))
        except (InvalidTag, ValueError):
            raise TamperedMedia(f"{self._key}: chunk {index} fails authentication (altered, moved or cut short)",
                                details={"chunk": index}) from None
        self._cached = (index, plain)
        return plain

    def verify(self) -> None:
        for index in range(self._chunks):
            self.chunk(index)

    def plaintext(self) -> bytes:
        """The whole content at once (for small files: the chunks were just checked and the last is cached)."""
        return b"".join(self.chunk(i) for i in range(self._chunks))

    def readinto(self, buffer) -> int:
        if self._pos >= self.size:
            return 0
        index, offset = divmod(self._pos, self._chunk)
        piece = self.chunk(index)[offset:offset + len(buffer)]
        buffer[:len(piece)] = piece
        self._pos += len(piece)
        return len(piece)

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        self._pos = max(0, base + offset)
        return self._pos

    def tell(self) -> int:
        return self._pos

    def close(self) -> None:
        if not self.closed:
            self._f.close()
            self._cached = (-1, b"")
        super().close()
