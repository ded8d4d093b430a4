"""Encryption at rest over the S3 store, as over files: nothing readable in the bucket, tampering with an object
refused, key rotation rewrites only the header and retires the old key, waits for uploads in progress in other
processes, never brings back an object deleted meanwhile; plaintext objects sealed in place."""

from __future__ import annotations

import hashlib
import io

import pytest

from openrtcc.adapters.storage.media_key_rotation import census, rotate_agency_key, seal_existing, verify_all
from openrtcc.adapters.storage.media_keys import MediaKeyRing
from openrtcc.adapters.storage.s3_media import S3MediaStore
from openrtcc.adapters.storage.sealed_blob import HEADER_BYTES, NONCE, TAG
from openrtcc.adapters.storage.sealed_media import SealedMediaStore
from openrtcc.domain.errors import TamperedMedia
from tests.s3_server import client, objects, s3_bucket, s3_endpoint, uploads  # noqa: F401

CHUNK = 4096
MARKER = b"PLAINTEXT-MARKER-S3-0042"
A, B = "agency-a", "agency-b"
PREFIX = "lakeport/"


def content(size: int) -> bytes:
    unit = MARKER + bytes(range(200))
    return (unit * (size // len(unit) + 1))[:size]


@pytest.fixture
def bucket(s3_endpoint, s3_bucket):
    """Read and alter objects straight on the server, behind the store's back."""
    admin = client(s3_endpoint)

    class Bucket:
        def raw(self, key: str) -> bytes:
            return admin.get_object(Bucket=s3_bucket, Key=PREFIX + key)["Body"].read()

        def write(self, key: str, data: bytes) -> None:
            admin.put_object(Bucket=s3_bucket, Key=PREFIX + key, Body=data)

        def all(self) -> dict[str, bytes]:
            return objects(s3_endpoint, s3_bucket)

        def uploads(self) -> list[str]:
            return uploads(s3_endpoint, s3_bucket)

    return Bucket()


@pytest.fixture
def store(s3_endpoint, s3_bucket, tmp_path) -> SealedMediaStore:
    inner = S3MediaStore(client(s3_endpoint), s3_bucket, PREFIX, announce_uploads=True, small_object_bytes=3 * CHUNK)
    return SealedMediaStore(inner, MediaKeyRing(tmp_path / "keys", create_on_first_use=True), chunk_bytes=CHUNK,
                            in_memory_bytes=2 * CHUNK)


def put(store, key: str, data: bytes) -> tuple[int, str]:
    return store.put(key, io.BytesIO(data), 10 * 1024 * 1024)


@pytest.mark.parametrize("size", [CHUNK + 1, 7 * CHUNK + 5])  # in memory, and streamed by range when opened
def test_sealed_in_the_bucket_and_served_as_sent(store, bucket, size):
    data = content(size)
    assert put(store, f"evidence/{A}/item.mp4", data) == (size, hashlib.sha256(data).hexdigest())
    raw = bucket.raw(f"evidence/{A}/item.mp4")
    assert raw.startswith(b"RTCCSEAL") and MARKER not in raw
    assert len(raw) == HEADER_BYTES + size + max(1, -(-size // CHUNK)) * (NONCE + TAG)
    with store.open(f"evidence/{A}/item.mp4") as f:
        assert f.read(16) == data[:16]
        f.seek(0)
        assert f.read() == data
    assert list(bucket.all()) == [f"{PREFIX}evidence/{A}/item.mp4"] and bucket.uploads() == []


def flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 1]) + raw[at + 1:]


def test_an_object_altered_in_the_bucket_is_refused(store, bucket):
    key = f"evidence/{A}/item.mp4"
    put(store, key, content(5 * CHUNK + 100))
    put(store, f"evidence/{B}/theirs.mp4", content(5 * CHUNK + 100))
    sound = bucket.raw(key)
    alterations = {"header": flip(sound, 40), "a chunk": flip(sound, HEADER_BYTES + CHUNK + 100),
                   "the final tag": flip(sound, len(sound) - 1), "truncated": sound[:-50],
                   "another agency's object": bucket.raw(f"evidence/{B}/theirs.mp4"), "plaintext": content(300)}
    for how, raw in alterations.items():
        bucket.write(key, raw)
        with pytest.raises(TamperedMedia) as caught:
            store.open(key)
        assert caught.value.code in ("tampered_media", "unsealed_media"), how
        assert [k for k, _ in verify_all(store, A)[1]] == [key], how
    bucket.write(key, sound)
    assert store.open(key).read() == content(5 * CHUNK + 100) and verify_all(store) == (2, [])


def test_rotation_over_s3_rewrites_headers_only_and_retires_the_old_key(store, bucket, tmp_path):
    files = {f"evidence/{A}/{i}.mp4": content(i * 3000) for i in range(3)}
    files[f"reads/{A}/cd/crop.jpg"] = content(50)
    for key, data in files.items():
        put(store, key, data)
    put(store, f"tips/{B}/other.jpg", content(70))
    before = {key: bucket.raw(key) for key in files}

    report = rotate_agency_key(store, A, upload_wait_s=0)
    assert (report.version, report.rewrapped, report.retired, report.kept) == (2, 4, [1], [])
    assert not (tmp_path / "keys" / A / "v0001.key").exists()
    for key, data in files.items():
        raw = bucket.raw(key)
        assert raw[HEADER_BYTES:] == before[key][HEADER_BYTES:] and raw[:HEADER_BYTES] != before[key][:HEADER_BYTES]
        assert store.open(key).read() == data
    assert census(store, A) == {A: {"v2": 4}} and census(store, B) == {B: {"v1": 1}}


def test_rotation_waits_for_an_upload_in_progress_in_another_process(store, bucket, s3_endpoint, s3_bucket):
    put(store, f"evidence/{A}/done.mp4", content(100))
    admin = client(s3_endpoint)
    begun = admin.create_multipart_upload(Bucket=s3_bucket, Key=f"{PREFIX}evidence/{A}/uploading.mp4")
    report = rotate_agency_key(store, A, upload_wait_s=0.01, sleep=lambda s: None)
    assert report.waiting_uploads == 1 and report.kept == [1] and store.keys.version_numbers(A) == [1, 2]
    admin.abort_multipart_upload(Bucket=s3_bucket, Key=f"{PREFIX}evidence/{A}/uploading.mp4",
                                 UploadId=begun["UploadId"])
    assert rotate_agency_key(store, A, upload_wait_s=0).retired == [1]


def test_a_rewrap_never_brings_back_an_object_deleted_or_replaced_meanwhile(store, bucket):
    key = f"reads/{A}/ab/crop.jpg"
    put(store, key, content(300))
    new = store.keys.create(A)

    def deleted_meanwhile(handle):  # the purge deletes the object between the rewrap's read and its write
        handle.close()
        store.delete(key)
        return b"X" * HEADER_BYTES

    with pytest.raises(FileNotFoundError):
        store.inner.rewrite_head(key, deleted_meanwhile)
    assert not store.exists(key) and bucket.all() == {}

    put(store, key, content(300))
    calls = []

    def replaced_once(handle):  # a new upload lands between read and write: the rewrite reads it again
        head = handle.read(HEADER_BYTES)
        handle.close()
        calls.append(head)
        if len(calls) == 1:
            put(store, key, content(400))
        return None if len(calls) > 1 else b"Y" * HEADER_BYTES

    assert store.inner.rewrite_head(key, replaced_once) is False and len(calls) == 2
    assert store.open(key).read() == content(400)
    assert store.header_of(key).key_version == new.version  # sealed under the current key when it was put


def test_plaintext_objects_are_sealed_in_place(store, bucket):
    key = f"evidence/{A}/old.mp4"
    store.inner.put(key, io.BytesIO(content(3 * CHUNK)), 1 << 20)  # stored before encryption was on
    put(store, f"evidence/{A}/new.mp4", content(10))
    with pytest.raises(TamperedMedia, match="seal-existing"):
        store.open(key)
    report = seal_existing(store)
    assert (report.sealed, report.already, report.failed) == (1, 1, [])
    assert MARKER not in bucket.raw(key) and store.open(key).read() == content(3 * CHUNK)


def test_an_object_larger_than_a_part_is_stored_and_rewrapped_in_parts(store, bucket):
    store.inner.part_bytes = 5 * 1024 * 1024  # S3's least part size: a 6 MiB clip goes in two parts
    data = content(6 * 1024 * 1024)
    key = f"evidence/{A}/long.mp4"
    put(store, key, data)
    before = bucket.raw(key)
    report = rotate_agency_key(store, A, upload_wait_s=0)
    assert (report.rewrapped, report.retired) == (1, [1]) and bucket.uploads() == []
    after = bucket.raw(key)
    assert after[HEADER_BYTES:] == before[HEADER_BYTES:] and after[:HEADER_BYTES] != before[:HEADER_BYTES]
    with store.open(key) as f:
        f.seek(5 * 1024 * 1024 - 3)
        assert f.read(6) == data[5 * 1024 * 1024 - 3: 5 * 1024 * 1024 + 3]
