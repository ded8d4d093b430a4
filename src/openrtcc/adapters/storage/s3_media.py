"""Media in an S3-compatible object store (AWS S3, MinIO, Ceph RGW) shared by hub processes on several machines:
an object is complete or absent, as a file of the local store is."""

from __future__ import annotations

import errno
import hashlib
import io
import logging
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from typing import BinaryIO

from botocore.exceptions import BotoCoreError, ClientError

from openrtcc.adapters.storage.local_media import CHUNK, TooLarge, checked_key, checked_prefix
from openrtcc.domain.errors import Unavailable

log = logging.getLogger(__name__)

PART_BYTES = 8 * 1024 * 1024  # one multipart part (S3's least is 5 MiB); the most one upload holds in memory
SMALL_OBJECT_BYTES = 4 * 1024 * 1024  # read whole on open (plate crops, snapshots); larger ones stream by range
READ_BUFFER = 1024 * 1024
REWRITE_ATTEMPTS = 3
_MISSING = frozenset({"404", "NoSuchKey", "NotFound", "NoSuchUpload"})
_CHANGED = frozenset({"412", "PreconditionFailed"})


class MediaUnavailable(Unavailable, OSError):
    """The object store did not answer: a 503 to a client (retry later), and an OSError to upkeep that already
    carries on past a file it could not reach (the retention purge's next run finds it again)."""

    code = "media_unavailable"


def error_code(exc: ClientError) -> str:
    return str(exc.response.get("Error", {}).get("Code", ""))


def missing(key: str) -> FileNotFoundError:
    """What the local store raises for an absent file: callers (evidence export, rotation) already handle it."""
    return FileNotFoundError(errno.ENOENT, "no such media object", key)


class S3MediaStore:
    """The MediaStore over one bucket and key prefix. `announce_uploads` makes every upload a multipart upload from
    its first byte, so uploads in progress are listed to other processes (key rotation waits for them, as it
    waits for the local store's `.part` files); without it a body smaller than one part is sent in one PUT."""

    def __init__(self, client, bucket: str, prefix: str = "", *, probe_client=None, announce_uploads: bool = False,
                 part_bytes: int = PART_BYTES, small_object_bytes: int = SMALL_OBJECT_BYTES):
        folder = checked_prefix(prefix)
        self.client, self.bucket, self.prefix = client, bucket, f"{folder}/" if folder else ""
        self.probe_client = probe_client or client
        self.announce_uploads, self.part_bytes, self.small_object_bytes = announce_uploads, part_bytes, \
            small_object_bytes
        self.where = f"s3://{bucket}/{self.prefix}"

    def _name(self, key: str) -> str:
        return self.prefix + checked_key(key)

    def _unavailable(self, exc: Exception, doing: str) -> MediaUnavailable:
        why = error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__
        log.warning("media store %s: %s failed (%s)", self.where, doing, why)
        return MediaUnavailable(f"the media store ({self.where}) did not answer: {doing} failed ({why})")

    # --- the MediaStore port ---

    def put(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        return self._upload(self._name(key), stream, max_bytes)

    def open(self, key: str) -> BinaryIO:
        name = self._name(key)
        try:
            got = self.client.get_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                raise missing(key) from None
            raise self._unavailable(exc, "a download") from None
        except BotoCoreError as exc:
            raise self._unavailable(exc, "a download") from None
        size = int(got["ContentLength"])
        if size <= self.small_object_bytes:
            with got["Body"] as body:
                return io.BytesIO(_read_all(body, size, key))
        return io.BufferedReader(ObjectReader(self, name, key, got["ETag"], size, got["Body"]), READ_BUFFER)

    def delete(self, key: str) -> None:
        try:
            self.client.delete_object(Bucket=self.bucket, Key=self._name(key))  # S3 answers 204 when absent
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc, "a delete") from None

    def exists(self, key: str) -> bool:
        try:
            self.client.head_object(Bucket=self.bucket, Key=self._name(key))
            return True
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                return False
            raise self._unavailable(exc, "a lookup") from None
        except BotoCoreError as exc:
            raise self._unavailable(exc, "a lookup") from None

    def iter_keys(self, prefix: str = "") -> Iterator[tuple[str, datetime]]:
        """Every stored object under `prefix` with its last-modified time; uploads in progress are not objects yet.
        Objects whose names this hub would never write (another tool's, under the same prefix) are not listed."""
        folder = checked_prefix(prefix)
        for obj in self._list(self.prefix + (f"{folder}/" if folder else ""), "Contents"):
            key = obj["Key"][len(self.prefix):]
            try:
                checked_key(key)
            except ValueError:
                continue
            yield key, obj["LastModified"].astimezone(UTC)

    # --- operations and upkeep (readiness, `rtcc keys`) ---

    def probe(self) -> str:
        """Readiness of the media store: `ok`, or a short reason (bucket_missing, access_denied, unavailable).
        services/health.py reports it as the `media` check."""
        try:
            self.probe_client.head_bucket(Bucket=self.bucket)
            return "ok"
        except ClientError as exc:
            code = error_code(exc)
            return {"404": "bucket_missing", "NoSuchBucket": "bucket_missing", "403": "access_denied"}.get(
                code, "unavailable")
        except BotoCoreError as exc:
            log.warning("readiness: media store %s unavailable (%s)", self.where, type(exc).__name__)
            return "unavailable"

    def check_bucket(self) -> None:
        """At start: the bucket exists and these credentials may use it, or a clear refusal naming it."""
        reason = self.probe()
        if reason == "ok":
            return
        hint = {"bucket_missing": "create it (e.g. `aws s3 mb s3://{b}` or `mc mb alias/{b}`) or correct "
                                  "RTCC_S3_BUCKET; the hub does not create buckets",
                "access_denied": "the credentials (RTCC_S3_ACCESS_KEY_ID) may not use it: grant s3:ListBucket, "
                                 "s3:GetObject, s3:PutObject, s3:DeleteObject and s3:ListBucketMultipartUploads"
                }.get(reason, "check RTCC_S3_ENDPOINT_URL and that the store is running")
        raise MediaUnavailable(f"media store: bucket {self.bucket!r}: {reason.replace('_', ' ')}: "
                               f"{hint.format(b=self.bucket)}", code=f"media_{reason}")

    def top_folders(self) -> list[str]:
        """The first level of keys (`evidence`, `reads`, `tips`, ...)."""
        return sorted(p["Prefix"][len(self.prefix):].rstrip("/") for p in self._list(self.prefix, "CommonPrefixes",
                                                                                       delimiter="/"))

    def writes_in_progress(self, prefix: str) -> int:
        """Multipart uploads begun and neither completed nor aborted under `prefix` (a crashed process's stay until
        the bucket's AbortIncompleteMultipartUpload lifecycle rule removes them)."""
        folder = checked_prefix(prefix)
        pages = self.client.get_paginator("list_multipart_uploads").paginate(
            Bucket=self.bucket, Prefix=self.prefix + (f"{folder}/" if folder else ""))
        try:
            return sum(len(page.get("Uploads", [])) for page in pages)
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc, "listing uploads") from None

    def rewrite_head(self, key: str, new_head: Callable[[BinaryIO], bytes | None]) -> bool:
        """Replaces the first bytes of an object: `new_head` reads the object (a handle it may close) and returns
        the new head, or None to leave it. The object is rewritten only if it is still the version read (S3
        If-Match), so a file deleted or replaced meanwhile is not brought back. False when left as it was."""
        name = self._name(key)
        for _attempt in range(REWRITE_ATTEMPTS):
            etag, size = self._stat(name, key)
            head = new_head(io.BufferedReader(ObjectReader(self, name, key, etag, size), READ_BUFFER))
            if head is None:
                return False
            rest = ObjectReader(self, name, key, etag, size)
            rest.seek(len(head))
            try:
                with rest:
                    self._upload(name, _Joined(head, rest), size, if_match=etag)
                return True
            except ObjectChanged:
                continue  # replaced between our read and our write: read the new version and decide again
        raise MediaUnavailable(f"{key} kept changing while its head was rewritten; run again", code="media_busy")

    # --- inside ---

    def _stat(self, name: str, key: str) -> tuple[str, int]:
        try:
            found = self.client.head_object(Bucket=self.bucket, Key=name)
        except ClientError as exc:
            if error_code(exc) in _MISSING:
                raise missing(key) from None
            raise self._unavailable(exc, "a lookup") from None
        return found["ETag"], int(found["ContentLength"])

    def _list(self, prefix: str, field: str, delimiter: str | None = None) -> Iterator[dict]:
        args = {"Bucket": self.bucket, "Prefix": prefix} | ({"Delimiter": delimiter} if delimiter else {})
        try:
            for page in self.client.get_paginator("list_objects_v2").paginate(**args):
                yield from page.get(field, [])
        except (ClientError, BotoCoreError) as exc:
            raise self._unavailable(exc, "a listing") from None

    def _upload(self, name: str, stream: BinaryIO, max_bytes: int, if_match: str | None = None) -> tuple[int, str]:
        """Streams `stream` to the object `name`, the size limit enforced as it is read; on any failure nothing is
        left: the multipart upload is aborted, and a single PUT is only sent once the whole body is read."""
        body = _CappedBody(stream, max_bytes)
        condition = {"IfMatch": if_match} if if_match else {}
        upload = None
        try:
            if self.announce_uploads and if_match is None:
                upload = _Multipart(self, name)
            part = body.read_part(self.part_bytes)
            if upload is None and len(part) < self.part_bytes:
                self.client.put_object(Bucket=self.bucket, Key=name, Body=part, **condition)
                return body.size, body.digest.hexdigest()
            upload = upload or _Multipart(self, name)
            upload.add(part)
            while len(part) == self.part_bytes and (part := body.read_part(self.part_bytes)):
                upload.add(part)
            upload.complete(condition)
            return body.size, body.digest.hexdigest()
        except BaseException as exc:
            if upload is not None:
                upload.abort()
            if isinstance(exc, ClientError):
                if error_code(exc) in _CHANGED:
                    raise ObjectChanged(f"{name} changed before it was rewritten") from None
                if if_match and error_code(exc) in _MISSING:
                    raise missing(name) from None
            if isinstance(exc, (ClientError, BotoCoreError)):
                raise self._unavailable(exc, "an upload") from None
            raise


class ObjectChanged(OSError):
    """The object is no longer the version being read, or the one a conditional write was based on."""


class _Multipart:
    def __init__(self, store: S3MediaStore, name: str):
        self.store, self.name, self.parts = store, name, []
        self.upload_id = store.client.create_multipart_upload(Bucket=store.bucket, Key=name)["UploadId"]

    def add(self, data: bytes) -> None:
        number = len(self.parts) + 1
        sent = self.store.client.upload_part(Bucket=self.store.bucket, Key=self.name, UploadId=self.upload_id,
                                             PartNumber=number, Body=data)
        self.parts.append({"ETag": sent["ETag"], "PartNumber": number})

    def complete(self, condition: dict) -> None:
        self.store.client.complete_multipart_upload(Bucket=self.store.bucket, Key=self.name, UploadId=self.upload_id,
                                                    MultipartUpload={"Parts": self.parts}, **condition)

    def abort(self) -> None:
        try:
            self.store.client.abort_multipart_upload(Bucket=self.store.bucket, Key=self.name,
                                                     UploadId=self.upload_id)
        except (ClientError, BotoCoreError) as exc:  # the bucket's lifecycle rule removes what is left
            log.warning("media store %s: an upload could not be aborted (%s)", self.store.where,
                        error_code(exc) if isinstance(exc, ClientError) else type(exc).__name__)


class _CappedBody:
    """Reads a stream part by part, counting and hashing; TooLarge as soon as it passes the limit."""

    def __init__(self, stream: BinaryIO, max_bytes: int):
        self.stream, self.max_bytes, self.size, self.digest = stream, max_bytes, 0, hashlib.sha256()

    def read_part(self, part_bytes: int) -> bytes:
        part = bytearray()
        while len(part) < part_bytes and (chunk := self.stream.read(min(CHUNK, part_bytes - len(part)))):
            self.size += len(chunk)
            if self.size > self.max_bytes:
                raise TooLarge(f"the file is larger than the {self.max_bytes // (1024 * 1024)} MiB limit")
            self.digest.update(chunk)
            part += chunk
        return bytes(part)


class _Joined(io.RawIOBase):
    """A new head followed by the rest of an object."""

    def __init__(self, head: bytes, rest: BinaryIO):
        self.head, self.rest = head, rest

    def readable(self) -> bool:
        return True

    def read(self, size: int = -1) -> bytes:
        if self.head:
            take = len(self.head) if size < 0 else size
            out, self.head = self.head[:take], self.head[take:]
            return out
        return self.rest.read(size)


class ObjectReader(io.RawIOBase):
    """One version of an object (pinned by its ETag), read and seeked by ranged GETs: reading on from where the last
    read stopped continues the same response; a seek elsewhere starts a new one. A version replaced or deleted
    while it is read ends the read with an error, never with bytes of another version."""

    def __init__(self, store: S3MediaStore, name: str, key: str, etag: str, size: int, body=None):
        self.store, self.name, self.key, self.etag, self.size = store, name, key, etag, size
        self._pos, self._body = 0, body

    def readable(self) -> bool:
        return True

    def seekable(self) -> bool:
        return True

    def tell(self) -> int:
        return self._pos

    def seek(self, offset: int, whence: int = io.SEEK_SET) -> int:
        base = {io.SEEK_SET: 0, io.SEEK_CUR: self._pos, io.SEEK_END: self.size}[whence]
        target = max(0, base + offset)
        if target != self._pos:
            self._drop()
            self._pos = target
        return self._pos

    def readinto(self, buffer) -> int:
        if self._pos >= self.size:
            return 0
        if self._body is None:
            self._body = self._get()
        try:
            data = self._body.read(len(buffer))
        except BotoCoreError as exc:
            self._drop()
            raise OSError(f"{self.key}: the download from the media store broke off ({type(exc).__name__})") from None
        if not data:
            self._drop()
            raise OSError(f"{self.key}: the media store ended the download early")
        buffer[:len(data)] = data
        self._pos += len(data)
        return len(data)

    def _get(self):
        try:
            return self.store.client.get_object(Bucket=self.store.bucket, Key=self.name, IfMatch=self.etag,
                                                Range=f"bytes={self._pos}-")["Body"]
        except ClientError as exc:
            code = error_code(exc)
            if code in _MISSING:
                raise missing(self.key) from None
            if code in _CHANGED:
                raise ObjectChanged(f"{self.key} was replaced while it was read") from None
            raise self.store._unavailable(exc, "a download") from None  # noqa: SLF001 - the reader's own store
        except BotoCoreError as exc:
            raise self.store._unavailable(exc, "a download") from None  # noqa: SLF001

    def _drop(self) -> None:
        if self._body is not None:
            self._body.close()
            self._body = None

    def close(self) -> None:
        self._drop()
        super().close()


def _read_all(body, size: int, key: str) -> bytes:
    try:
        data = body.read()
    except BotoCoreError as exc:
        raise OSError(f"{key}: the download from the media store broke off ({type(exc).__name__})") from None
    if len(data) != size:
        raise OSError(f"{key}: the media store sent {len(data)} of {size} bytes")
    return data


def s3_client(endpoint_url: str | None, region: str, access_key_id: str | None, secret_access_key: str | None, *,
              probe: bool = False):
    """A boto3 S3 client (thread-safe, shared by the process). Without keys, boto3's own chain is used (environment,
    instance or pod role). The probe client answers readiness quickly: short timeouts, no retries."""
    import boto3
    from botocore.config import Config

    # a store of one's own (MinIO, Ceph) is reached at its endpoint by path: bucket names are not in its DNS
    addressing = {"s3": {"addressing_style": "path"}} if endpoint_url else {}
    config = Config(connect_timeout=2, read_timeout=3, retries={"mode": "standard", "max_attempts": 1},
                    **addressing) if probe \
        else Config(connect_timeout=5, read_timeout=60, retries={"mode": "standard", "max_attempts": 4},
                    max_pool_connections=64, **addressing)
    return boto3.client("s3", endpoint_url=endpoint_url, region_name=region, aws_access_key_id=access_key_id,
                        aws_secret_access_key=secret_access_key, config=config)
