"""The MediaStore contract on both stores (files, and a bucket on a real S3-protocol server on loopback): round
trips, seeking, streaming by range, the size limit leaving nothing, refused keys, listings; and what only the S3
store does: prefixes that share a bucket, a clear refusal at start, readiness, an unreachable store."""

from __future__ import annotations

import hashlib
import io
from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.adapters.storage.local_media import LocalMediaStore, TooLarge
from openrtcc.adapters.storage.s3_media import MediaUnavailable, S3MediaStore, s3_client
from openrtcc.config import Settings
from openrtcc.domain.errors import InvalidInput
from openrtcc.media_wiring import build_media_store
from tests.s3_server import ACCESS_KEY, SECRET_KEY, client, objects, s3_bucket, s3_endpoint, uploads  # noqa: F401

PART = 5 * 1024 * 1024  # S3's least part size: the multipart path is exercised with ~11 MiB
SMALL = 64 * 1024


def content(size: int, seed: int = 0) -> bytes:
    unit = hashlib.sha256(str(seed).encode()).digest() * 64
    return (unit * (size // len(unit) + 1))[:size]


@pytest.fixture(params=["file", "s3"])
def kind(request) -> str:
    return request.param


@pytest.fixture
def store(kind, tmp_path, request):
    if kind == "file":
        return LocalMediaStore(tmp_path / "media")
    endpoint, bucket = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")
    return S3MediaStore(client(endpoint), bucket, "city/", part_bytes=PART, small_object_bytes=SMALL)


def leftovers(store, kind, request) -> list[str]:
    """Whatever the store holds, complete or not: files and `.part` files, or objects and multipart uploads."""
    if kind == "file":
        return sorted(p.relative_to(store.root).as_posix() for p in store.root.rglob("*") if p.is_file())
    endpoint, bucket = request.getfixturevalue("s3_endpoint"), request.getfixturevalue("s3_bucket")
    return sorted(objects(endpoint, bucket)) + uploads(endpoint, bucket)


@pytest.mark.parametrize("size", [0, SMALL + 1, 2 * PART + 123])  # empty; one PUT, read by range; multipart
def test_put_then_open_returns_the_bytes_with_size_and_sha256(store, size):
    data = content(size)
    assert store.put("evidence/ag-1/item.mp4", io.BytesIO(data), 64 * 1024 * 1024) == (
        size, hashlib.sha256(data).hexdigest())
    assert store.exists("evidence/ag-1/item.mp4")
    with store.open("evidence/ag-1/item.mp4") as f:
        assert f.read() == data


def test_opened_media_is_sniffed_then_read_from_the_start_and_seeked_anywhere(store):
    """As the alert image, evidence export and download paths use it: read a head, seek(0), read in chunks."""
    data = content(3 * SMALL + 17, seed=1)
    store.put("reads/ag-1/ab/crop.jpg", io.BytesIO(data), 1 << 20)
    f = store.open("reads/ag-1/ab/crop.jpg")
    assert f.read(16) == data[:16]
    f.seek(0)
    assert b"".join(iter(lambda: f.read(10_000), b"")) == data
    f.seek(2 * SMALL - 5)
    assert f.read(10) == data[2 * SMALL - 5: 2 * SMALL + 5]
    f.seek(-7, io.SEEK_END)
    assert f.read() == data[-7:]
    f.seek(100)
    assert f.read(3) == data[100:103]
    f.close()


def test_a_new_put_replaces_the_old_content_whole(store):
    store.put("tips/ag-1/p.jpg", io.BytesIO(b"first version"), 1000)
    store.put("tips/ag-1/p.jpg", io.BytesIO(b"second"), 1000)
    assert store.open("tips/ag-1/p.jpg").read() == b"second"


@pytest.mark.parametrize("size", [SMALL, 2 * PART + 5])  # refused within the first part, and after parts were sent
def test_over_the_limit_is_refused_and_leaves_nothing(store, kind, request, size):
    store.put("evidence/ag-1/kept.mp4", io.BytesIO(b"kept"), 100)
    with pytest.raises(TooLarge):
        store.put("evidence/ag-1/big.mp4", io.BytesIO(content(size + 1)), size)
    assert not store.exists("evidence/ag-1/big.mp4")
    expected = "city/evidence/ag-1/kept.mp4" if kind == "s3" else "evidence/ag-1/kept.mp4"
    assert leftovers(store, kind, request) == [expected]


def test_a_stream_that_fails_midway_leaves_nothing_and_keeps_the_old_version(store, kind, request):
    class Broken(io.RawIOBase):
        sent = 0

        def readable(self):
            return True

        def readinto(self, buffer):
            if self.sent > PART + 10:
                raise ConnectionResetError("the client went away")
            buffer[:len(buffer)] = b"x" * len(buffer)
            self.sent += len(buffer)
            return len(buffer)

    store.put("evidence/ag-1/clip.mp4", io.BytesIO(b"the old clip"), 100)
    with pytest.raises(ConnectionResetError):
        store.put("evidence/ag-1/clip.mp4", io.BufferedReader(Broken()), 64 * 1024 * 1024)
    assert store.open("evidence/ag-1/clip.mp4").read() == b"the old clip"
    expected = ("city/" if kind == "s3" else "") + "evidence/ag-1/clip.mp4"
    assert leftovers(store, kind, request) == [expected]


def test_delete_is_idempotent_and_open_of_a_missing_key_is_file_not_found(store):
    store.put("tips/ag-1/x.jpg", io.BytesIO(b"x"), 10)
    store.delete("tips/ag-1/x.jpg")
    store.delete("tips/ag-1/x.jpg")
    store.delete("tips/ag-1/never.jpg")
    assert not store.exists("tips/ag-1/x.jpg")
    with pytest.raises(FileNotFoundError):
        store.open("tips/ag-1/x.jpg")


BAD_KEYS = ["../escape.jpg", "reads/../../etc/passwd", "/etc/passwd", "reads/a/../b.jpg", "", ".hidden",
            "reads/a b.jpg", "reads/\u00fc.jpg", "reads/x\n.jpg", "x" * 201]


def test_keys_that_could_escape_or_confuse_are_refused_and_nothing_is_written(store, kind, request):
    for bad in BAD_KEYS:
        for call in (lambda: store.put(bad, io.BytesIO(b"x"), 10), lambda: store.open(bad),
                     lambda: store.delete(bad), lambda: store.exists(bad)):
            with pytest.raises(ValueError, match="bad media key"):
                call()
    with pytest.raises(ValueError, match="bad media prefix"):
        list(store.iter_keys("reads/../.."))
    assert leftovers(store, kind, request) == []


def test_iter_keys_lists_complete_media_under_a_prefix_with_last_modified(store):
    before = datetime.now(UTC) - timedelta(seconds=5)
    for key in ["reads/ag-1/ab/1.jpg", "reads/ag-1/cd/2.jpg", "reads/ag-2/ab/3.jpg", "evidence/ag-1/c.mp4",
                "readsx/ag-1/ab/4.jpg"]:
        store.put(key, io.BytesIO(b"x"), 10)
    listed = dict(store.iter_keys("reads/"))
    assert sorted(listed) == ["reads/ag-1/ab/1.jpg", "reads/ag-1/cd/2.jpg", "reads/ag-2/ab/3.jpg"]
    assert all(before <= when <= datetime.now(UTC) + timedelta(seconds=5) and when.tzinfo for when in
               listed.values())
    assert sorted(k for k, _ in store.iter_keys("reads")) == sorted(listed)  # the same folder either way
    assert [k for k, _ in store.iter_keys("reads/ag-2/")] == ["reads/ag-2/ab/3.jpg"]
    assert len(list(store.iter_keys(""))) == 5
    assert list(store.iter_keys("nothing/")) == []
    assert store.top_folders() == ["evidence", "reads", "readsx"]


def test_probe_says_ok(store):
    assert store.probe() == "ok"


# --- the S3 store only ---


def test_prefixes_share_a_bucket_without_seeing_each_other(s3_endpoint, s3_bucket):
    lakeport = S3MediaStore(client(s3_endpoint), s3_bucket, "lakeport")
    harbor = S3MediaStore(client(s3_endpoint), s3_bucket, "/harbor/")
    lakeport.put("reads/ag-1/ab/1.jpg", io.BytesIO(b"L"), 10)
    harbor.put("reads/ag-1/ab/1.jpg", io.BytesIO(b"H"), 10)
    client(s3_endpoint).put_object(Bucket=s3_bucket, Key="lakeport/reads/ag-1/not a hub key!.jpg", Body=b"?")
    assert sorted(objects(s3_endpoint, s3_bucket)) == ["harbor/reads/ag-1/ab/1.jpg", "lakeport/reads/ag-1/ab/1.jpg",
                                                       "lakeport/reads/ag-1/not a hub key!.jpg"]
    assert [k for k, _ in lakeport.iter_keys("reads/")] == ["reads/ag-1/ab/1.jpg"]  # another tool's object: unlisted
    assert lakeport.open("reads/ag-1/ab/1.jpg").read() == b"L" and harbor.open("reads/ag-1/ab/1.jpg").read() == b"H"
    harbor.delete("reads/ag-1/ab/1.jpg")
    assert lakeport.exists("reads/ag-1/ab/1.jpg") and not harbor.exists("reads/ag-1/ab/1.jpg")


def test_a_large_object_streams_by_range_and_a_replacement_midway_is_an_error_not_mixed_bytes(s3_endpoint,
                                                                                             s3_bucket):
    store = S3MediaStore(client(s3_endpoint), s3_bucket, small_object_bytes=SMALL)
    size = 3 * 1024 * 1024  # past the read buffer (1 MiB): a far seek is a new ranged GET
    data = content(size, seed=2)
    store.put("evidence/ag-1/long.mp4", io.BytesIO(data), size)
    f = store.open("evidence/ag-1/long.mp4")
    assert not isinstance(f, io.BytesIO)  # not read whole into memory
    assert f.read(10) == data[:10]
    f.seek(size - 1000)
    assert f.read(10) == data[size - 1000: size - 990]
    f.seek(size // 2)
    store.put("evidence/ag-1/long.mp4", io.BytesIO(content(size, seed=3)), size)
    with pytest.raises(OSError, match="replaced while it was read"):
        f.read()
    f.close()


def test_multipart_uploads_are_announced_from_the_first_byte_when_asked(s3_endpoint, s3_bucket):
    """A sealed store's uploads must be seen in progress by `rtcc keys rotate` in another process."""
    store = S3MediaStore(client(s3_endpoint), s3_bucket, announce_uploads=True)
    seen = []

    class Watching(io.BytesIO):
        def read(self, n=-1):
            seen.append(store.writes_in_progress("tips/ag-1/"))
            return super().read(n)

    store.put("tips/ag-1/p.jpg", Watching(b"small body"), 100)
    assert seen and all(n == 1 for n in seen)
    assert store.writes_in_progress("tips/") == 0 and store.open("tips/ag-1/p.jpg").read() == b"small body"
    store.put("tips/ag-1/empty.jpg", io.BytesIO(b""), 100)
    assert store.open("tips/ag-1/empty.jpg").read() == b""


def test_s3_without_a_bucket_is_a_clear_start_up_error(tmp_path):
    with pytest.raises(InvalidInput, match="RTCC_S3_BUCKET") as caught:
        build_media_store(Settings(data_dir=tmp_path, media_store="s3"))
    assert caught.value.code == "media_store_misconfigured"


def s3_settings(tmp_path, endpoint: str, bucket: str, **more) -> Settings:
    return Settings(data_dir=tmp_path, media_store="s3", s3_endpoint_url=endpoint, s3_bucket=bucket,
                    s3_access_key_id=ACCESS_KEY, s3_secret_access_key=SECRET_KEY,
                    **({"media_key_dir": tmp_path / "keys"} | more))


def test_sealed_media_on_s3_needs_key_files_shared_by_every_machine(tmp_path, s3_endpoint, s3_bucket):
    with pytest.raises(InvalidInput, match="RTCC_MEDIA_KEY_DIR") as caught:
        build_media_store(s3_settings(tmp_path, s3_endpoint, s3_bucket, media_key_dir=None))
    assert caught.value.code == "media_keys_not_shared"
    plain = build_media_store(s3_settings(tmp_path, s3_endpoint, s3_bucket, media_key_dir=None,
                                          media_encryption=False))
    assert isinstance(plain, S3MediaStore) and not plain.announce_uploads


def test_a_missing_bucket_stops_the_start_naming_it_and_is_never_created(tmp_path, s3_endpoint, caplog):
    with pytest.raises(MediaUnavailable, match="bucket 'no-such-media': bucket missing") as caught:
        build_media_store(s3_settings(tmp_path, s3_endpoint, "no-such-media"))
    assert caught.value.code == "media_bucket_missing" and "does not create buckets" in caught.value.message
    names = [b["Name"] for b in client(s3_endpoint).list_buckets()["Buckets"]]
    assert "no-such-media" not in names
    settings = s3_settings(tmp_path, s3_endpoint, "no-such-media")
    assert SECRET_KEY not in repr(settings) and SECRET_KEY not in caught.value.message
    assert SECRET_KEY not in caplog.text


def test_readiness_follows_the_bucket(tmp_path, s3_endpoint, s3_bucket):
    store = build_media_store(s3_settings(tmp_path, s3_endpoint, s3_bucket))
    assert store.probe() == "ok"  # sealed (the default): it asks the bucket underneath
    store.inner.put("tips/ag-1/x.jpg", io.BytesIO(b"x"), 10)
    admin = client(s3_endpoint)
    admin.delete_object(Bucket=s3_bucket, Key="tips/ag-1/x.jpg")
    admin.delete_bucket(Bucket=s3_bucket)
    assert store.probe() == "bucket_missing"
    admin.create_bucket(Bucket=s3_bucket)
    assert store.probe() == "ok"


def test_an_unreachable_store_is_unavailable_fast_and_is_an_oserror_to_upkeep(tmp_path):
    from openrtcc.adapters.bus.nats_server import free_port

    endpoint = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    with pytest.raises(MediaUnavailable, match="unavailable: check RTCC_S3_ENDPOINT_URL"):
        build_media_store(s3_settings(tmp_path, endpoint, "rtcc-media"))
    store = S3MediaStore(s3_client(endpoint, "us-east-1", ACCESS_KEY, SECRET_KEY, probe=True), "rtcc-media")
    assert store.probe() == "unavailable"
    for call in (lambda: store.put("tips/a/x.jpg", io.BytesIO(b"x"), 10), lambda: store.open("tips/a/x.jpg"),
                 lambda: store.delete("tips/a/x.jpg"), lambda: list(store.iter_keys("tips/"))):
        with pytest.raises(OSError) as caught:  # MediaUnavailable: a 503 to clients, an OSError to the purge
            call()
        assert isinstance(caught.value, MediaUnavailable) and caught.value.code == "media_unavailable"
