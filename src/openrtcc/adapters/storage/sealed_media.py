"""Media sealed at rest: AES-256-GCM envelope encryption under the agency's key, around the file or S3 store."""

from __future__ import annotations

import hashlib
import io
import secrets
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO

from openrtcc.adapters.storage.local_media import LocalMediaStore, TooLarge
from openrtcc.adapters.storage.media_keys import AgencyKey, MediaKeyRing
from openrtcc.adapters.storage.sealed_blob import (
    CHUNK_BYTES,
    HEADER_BYTES,
    NONCE,
    TAG,
    BlobHeader,
    OpenedBlob,
    SealingStream,
    is_sealed,
    parse_header,
    seal_header,
)
from openrtcc.domain.errors import TamperedMedia

if TYPE_CHECKING:  # botocore is imported only where the S3 store is used
    from openrtcc.adapters.storage.s3_media import S3MediaStore

# Files this small are decrypted into memory when opened; larger ones are checked whole, then read chunk by chunk.
IN_MEMORY_BYTES = 4 * 1024 * 1024


def agency_of(media_key: str) -> str:
    """Media keys are `<kind>/<agency_id>/...`: the agency whose key seals the file."""
    parts = media_key.split("/")
    if len(parts) < 3 or not parts[1]:
        raise ValueError(f"media key {media_key!r} names no agency")
    return parts[1]


class SealedMediaStore:
    """The MediaStore the hub uses when media encryption is on. `put` returns the plaintext's size and SHA-256
    (evidence rows keep what the owner sent); `open` authenticates the whole file before returning a byte, and
    refuses a tampered or unsealed one with TamperedMedia."""

    def __init__(self, inner: LocalMediaStore | S3MediaStore, keys: MediaKeyRing, chunk_bytes: int = CHUNK_BYTES,
                 in_memory_bytes: int = IN_MEMORY_BYTES):
        self.inner, self.keys, self.chunk_bytes, self.in_memory_bytes = inner, keys, chunk_bytes, in_memory_bytes

    @property
    def root(self) -> Path:
        """The folder of a file store (an S3 store has none)."""
        return self.inner.root

    def put(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        agency = self.keys.current(agency_of(key))
        data_key = secrets.token_bytes(32)
        header = seal_header(key, agency, data_key, self.chunk_bytes)
        plain = _PlainTally(max_bytes)
        # the inner store writes atomically (a .part file renamed, an object completed) and enforces its own limit on
        # the sealed bytes; ours is on the plaintext, checked as it streams through
        sealed_limit = HEADER_BYTES + max_bytes + (max_bytes // self.chunk_bytes + 1) * (NONCE + TAG)
        self.inner.put(key, SealingStream(stream, header, data_key, plain.add), sealed_limit)
        return plain.size, plain.digest.hexdigest()

    def open(self, key: str) -> BinaryIO:
        handle = self.inner.open(key)
        try:
            blob = self._authenticated(key, handle)
            if blob.size <= self.in_memory_bytes:
                with blob:
                    return io.BytesIO(blob.plaintext())
            return io.BufferedReader(blob, buffer_size=self.chunk_bytes)
        except BaseException:
            handle.close()
            raise

    def _authenticated(self, key: str, handle: BinaryIO) -> OpenedBlob:
        header = self._header(key, handle.read(HEADER_BYTES))
        data_key = header.unwrap(key, self.keys.get(header.agency_id, header.key_version))
        blob = OpenedBlob(key, handle, header, data_key)
        blob.verify()
        blob.seek(0)
        return blob

    def _header(self, key: str, head: bytes) -> BlobHeader:
        if not is_sealed(head):
            raise TamperedMedia(
                f"{key} is not sealed: it was stored before encryption at rest was turned on (run `rtcc keys "
                "seal-existing`), or it was replaced by an unencrypted file", code="unsealed_media")
        header = parse_header(key, head)
        if header.agency_id != agency_of(key):
            # the header's own text is not repeated: it is whatever the person who altered the file wrote
            raise TamperedMedia(f"{key}: the sealed header names another agency than the file's name")
        return header

    def delete(self, key: str) -> None:
        self.inner.delete(key)

    def exists(self, key: str) -> bool:
        return self.inner.exists(key)

    def iter_keys(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        return self.inner.iter_keys(prefix)

    # --- operations, and upkeep used by `rtcc keys` ---

    def probe(self) -> str:
        """Readiness of the store underneath (`ok` or a short reason)."""
        return self.inner.probe()

    def top_folders(self) -> list[str]:
        return self.inner.top_folders()

    def header_of(self, key: str) -> BlobHeader | None:
        """The sealed header of a stored file, None when the file is plaintext (stored before encryption)."""
        with self.inner.open(key) as handle:
            head = handle.read(HEADER_BYTES)
        return self._header(key, head) if is_sealed(head) else None

    def uploads_in_progress(self, agency_id: str) -> int:
        """Files of the agency being written now (the file store's `.part` files, the S3 store's multipart uploads)."""
        return sum(self.inner.writes_in_progress(f"{kind}/{agency_id}/") for kind in self.inner.top_folders())

    def verify(self, key: str) -> int:
        """Authenticates one stored file whole; returns its plaintext size; raises TamperedMedia."""
        with self.inner.open(key) as handle, self._authenticated(key, handle) as blob:
            return blob.size

    def rewrap(self, key: str, to: AgencyKey) -> bool:
        """Wraps the file's data key under `to` by rewriting the fixed-size header in place (the content is not
        touched, and a file deleted meanwhile is not brought back). False when it was already under `to`."""
        def rewrapped(handle: BinaryIO) -> bytes | None:
            with handle:
                header = self._header(key, handle.read(HEADER_BYTES))
                if header.key_version == to.version:
                    return None
                data_key = header.unwrap(key, self.keys.get(header.agency_id, header.key_version))
                with OpenedBlob(key, handle, header, data_key) as blob:
                    blob.verify()  # never rewrap a damaged file as if it were sound
                return seal_header(key, to, data_key, header.chunk_bytes).encode()

        return self.inner.rewrite_head(key, rewrapped)

    def seal_plaintext(self, key: str) -> bool:
        """Seals a file stored before encryption was on, replacing it atomically; False when already sealed."""
        with self.inner.open(key) as handle:
            if is_sealed(handle.read(len(b"RTCCSEAL"))):
                return False
            size = handle.seek(0, io.SEEK_END)
            handle.seek(0)
            self.put(key, handle, size)
        return True


class _PlainTally:
    def __init__(self, max_bytes: int):
        self.max_bytes, self.size, self.digest = max_bytes, 0, hashlib.sha256()

    def add(self, data: bytes) -> None:
        self.size += len(data)
        if self.size > self.max_bytes:
            raise TooLarge(f"the file is larger than the {self.max_bytes // (1024 * 1024)} MiB limit")
        self.digest.update(data)
