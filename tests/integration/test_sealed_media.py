"""Encryption at rest on real files: nothing readable on disk, round trips, every kind of tampering refused,
missing and exposed keys refused, rotation (resumable, retiring old keys only when no file needs them),
sealing of files stored before encryption was on."""

from __future__ import annotations

import hashlib
import io
import os
import shutil
import stat

import pytest

from openrtcc.adapters.storage.local_media import LocalMediaStore, TooLarge
from openrtcc.adapters.storage.media_key_rotation import census, rotate_agency_key, seal_existing, verify_all
from openrtcc.adapters.storage.media_keys import MediaKeyRing
from openrtcc.adapters.storage.sealed_blob import HEADER_BYTES, NONCE, TAG
from openrtcc.adapters.storage.sealed_media import SealedMediaStore
from openrtcc.config import Settings
from openrtcc.domain.errors import TamperedMedia, Unavailable
from openrtcc.media_wiring import build_media_store

CHUNK = 4096
RECORD = CHUNK + NONCE + TAG
MARKER = b"PLAINTEXT-MARKER-7XY0042"
A, B = "agency-a", "agency-b"


def content(size: int) -> bytes:
    """Compressible, recognisable bytes with the marker throughout: any plaintext leak is found by grep."""
    unit = MARKER + bytes(range(200))
    return (unit * (size // len(unit) + 1))[:size]


@pytest.fixture
def store(tmp_path) -> SealedMediaStore:
    return SealedMediaStore(LocalMediaStore(tmp_path / "media"), MediaKeyRing(tmp_path / "keys",
                            create_on_first_use=True), chunk_bytes=CHUNK, in_memory_bytes=2 * CHUNK)


def put(store, key: str, data: bytes) -> tuple[int, str]:
    return store.put(key, io.BytesIO(data), 10 * 1024 * 1024)


def on_disk(store, key: str) -> bytes:
    return (store.root / key).read_bytes()


def rewrite(store, key: str, data: bytes) -> None:
    (store.root / key).write_bytes(data)


@pytest.mark.parametrize("size", [0, 1, CHUNK - 1, CHUNK, CHUNK + 1, 2 * CHUNK, 5 * CHUNK + 77])
def test_round_trip_keeps_plaintext_size_and_hash_and_leaves_no_plaintext_on_disk(store, size):
    data = content(size)
    assert put(store, f"evidence/{A}/item.mp4", data) == (size, hashlib.sha256(data).hexdigest())
    raw = on_disk(store, f"evidence/{A}/item.mp4")
    assert MARKER not in raw and raw.startswith(b"RTCCSEAL")
    chunks = max(1, -(-size // CHUNK))
    assert len(raw) == HEADER_BYTES + size + chunks * (NONCE + TAG)
    with store.open(f"evidence/{A}/item.mp4") as f:
        assert f.read() == data
    assert sorted(p.name for p in store.root.rglob("*")) == sorted(["evidence", A, "item.mp4"])  # no .part left


def test_a_large_file_streams_and_seeks_chunk_by_chunk(store):
    data = content(7 * CHUNK + 5)
    put(store, f"evidence/{A}/long.mp4", data)
    f = store.open(f"evidence/{A}/long.mp4")
    assert isinstance(f, io.BufferedReader)  # over in_memory_bytes: not read into memory whole
    assert f.read(16) == data[:16]
    f.seek(0)
    assert f.read(CHUNK + 3) == data[: CHUNK + 3]
    f.seek(5 * CHUNK - 2)
    assert f.read(10) == data[5 * CHUNK - 2: 5 * CHUNK + 8]
    f.seek(0)
    assert b"".join(iter(lambda: f.read(1000), b"")) == data
    f.close()


def test_same_content_twice_gives_different_ciphertext(store):
    data = content(3000)
    put(store, f"reads/{A}/ab/one.jpg", data)
    put(store, f"reads/{A}/ab/two.jpg", data)
    one, two = on_disk(store, f"reads/{A}/ab/one.jpg"), on_disk(store, f"reads/{A}/ab/two.jpg")
    assert one[HEADER_BYTES:] != two[HEADER_BYTES:]


def test_over_the_limit_leaves_nothing(store):
    with pytest.raises(TooLarge):
        store.put(f"tips/{A}/big.jpg", io.BytesIO(content(3 * CHUNK)), 2 * CHUNK)
    assert not store.exists(f"tips/{A}/big.jpg")
    assert [p for p in store.root.rglob("*") if p.is_file()] == []


def flip(raw: bytes, at: int) -> bytes:
    return raw[:at] + bytes([raw[at] ^ 0x01]) + raw[at + 1:]


def tamperings(raw: bytes) -> dict[str, bytes]:
    body = HEADER_BYTES
    chunk = [raw[body + i * RECORD: body + (i + 1) * RECORD] for i in range(3)]
    return {
        "header magic": flip(raw, 2),
        "header JSON": flip(raw, 40),
        "header padding": flip(raw, HEADER_BYTES - 1),
        "chunk nonce": flip(raw, body + 3),
        "chunk body": flip(raw, body + RECORD + 100),
        "final tag": flip(raw, len(raw) - 1),
        "truncated mid-chunk": raw[:-50],
        "truncated at a chunk boundary": raw[: body + 2 * RECORD],
        "header only": raw[:body],
        "chunks swapped": raw[:body] + chunk[1] + chunk[0] + raw[body + 2 * RECORD:],
        "chunk duplicated": raw[:body] + chunk[0] + chunk[0] + raw[body + 2 * RECORD:],
        "bytes appended": raw + b"\0" * 40,
    }


@pytest.mark.parametrize("how", list(tamperings(b"\0" * (HEADER_BYTES + 3 * RECORD))))
def test_every_kind_of_tampering_is_refused(store, how):
    key = f"evidence/{A}/item.mp4"
    put(store, key, content(2 * CHUNK + 500))
    rewrite(store, key, tamperings(on_disk(store, key))[how])
    with pytest.raises(TamperedMedia) as caught:
        store.open(key)
    assert caught.value.code in ("tampered_media", "unsealed_media")
    with pytest.raises(TamperedMedia):
        store.verify(key)


def test_files_swapped_between_agencies_or_names_are_refused(store):
    put(store, f"tips/{A}/one.jpg", content(100))
    put(store, f"tips/{A}/two.jpg", content(200))
    put(store, f"tips/{B}/three.jpg", content(300))
    shutil.copy(store.root / f"tips/{A}/one.jpg", store.root / f"tips/{B}/three.jpg")
    with pytest.raises(TamperedMedia, match="header names another agency"):
        store.open(f"tips/{B}/three.jpg")
    shutil.copy(store.root / f"tips/{A}/one.jpg", store.root / f"tips/{A}/two.jpg")
    with pytest.raises(TamperedMedia, match="does not unwrap"):
        store.open(f"tips/{A}/two.jpg")
    assert store.open(f"tips/{A}/one.jpg").read() == content(100)


def test_a_plaintext_file_is_refused_naming_seal_existing_and_then_sealed(store):
    key = f"evidence/{A}/old.mp4"
    store.inner.put(key, io.BytesIO(content(3 * CHUNK)), 1 << 20)  # written before encryption was on
    put(store, f"evidence/{A}/new.mp4", content(10))
    with pytest.raises(TamperedMedia, match="rtcc keys seal-existing") as caught:
        store.open(key)
    assert caught.value.code == "unsealed_media"
    report = seal_existing(store)
    assert (report.sealed, report.already, report.failed) == (1, 1, [])
    assert MARKER not in on_disk(store, key)
    assert store.open(key).read() == content(3 * CHUNK)
    assert seal_existing(store).sealed == 0  # idempotent


def test_key_files_are_private_and_an_exposed_or_missing_key_is_refused(store, tmp_path):
    put(store, f"reads/{A}/ab/x.jpg", content(100))
    folder, key_file = tmp_path / "keys" / A, tmp_path / "keys" / A / "v0001.key"
    assert stat.S_IMODE(os.stat(tmp_path / "keys").st_mode) == 0o700
    assert stat.S_IMODE(os.stat(folder).st_mode) == 0o700 and stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    assert MARKER not in key_file.read_bytes() and b"agency-a" in key_file.read_bytes()

    os.chmod(key_file, 0o644)
    with pytest.raises(Unavailable, match="chmod 600") as caught:
        store.open(f"reads/{A}/ab/x.jpg")
    assert caught.value.code == "media_key_insecure"
    os.chmod(key_file, 0o600)
    saved = key_file.read_bytes()
    key_file.unlink()
    with pytest.raises(Unavailable, match="version 1 of agency agency-a") as caught:
        store.open(f"reads/{A}/ab/x.jpg")
    assert caught.value.code == "media_key_missing"
    key_file.write_bytes(saved)
    os.chmod(key_file, 0o600)
    assert store.open(f"reads/{A}/ab/x.jpg").read() == content(100)


def test_a_key_file_copied_from_another_agency_is_refused(store, tmp_path):
    put(store, f"reads/{A}/ab/x.jpg", content(100))
    put(store, f"reads/{B}/ab/y.jpg", content(100))
    b_key = tmp_path / "keys" / B / "v0001.key"
    b_key.write_bytes((tmp_path / "keys" / A / "v0001.key").read_bytes())
    with pytest.raises(Unavailable, match="holds the key of agency agency-a"):
        store.open(f"reads/{B}/ab/y.jpg")


def test_agency_held_keys_are_never_made_up(tmp_path):
    store = SealedMediaStore(LocalMediaStore(tmp_path / "media"),
                             MediaKeyRing(tmp_path / "held", create_on_first_use=False))
    with pytest.raises(Unavailable, match="rtcc keys create") as caught:
        put(store, f"tips/{A}/x.jpg", b"x")
    assert caught.value.code == "media_key_missing" and not store.exists(f"tips/{A}/x.jpg")
    store.keys.create(A)
    put(store, f"tips/{A}/x.jpg", b"x")
    assert store.open(f"tips/{A}/x.jpg").read() == b"x"


def test_rotation_rewraps_every_file_and_retires_the_old_key(store, tmp_path):
    files = {f"evidence/{A}/{i}.mp4": content(i * 1500) for i in range(4)}
    files[f"reads/{A}/cd/crop.jpg"] = content(50)
    for key, data in files.items():
        put(store, key, data)
    put(store, f"tips/{B}/other.jpg", content(70))
    before = {key: on_disk(store, key) for key in files}
    old = store.keys.current(A)

    report = rotate_agency_key(store, A, upload_wait_s=0)
    assert (report.version, report.resumed, report.rewrapped, report.retired) == (2, False, 5, [1])
    assert store.keys.version_numbers(A) == [2] and store.keys.version_numbers(B) == [1]
    assert not (tmp_path / "keys" / A / "v0001.key").exists()
    for key, data in files.items():
        raw = on_disk(store, key)
        assert raw[HEADER_BYTES:] == before[key][HEADER_BYTES:]  # only the wrapped key changed
        assert raw[:HEADER_BYTES] != before[key][:HEADER_BYTES] and old.key_id.encode() not in raw[:HEADER_BYTES]
        assert store.open(key).read() == data
    assert census(store, A) == {A: {"v2": 5}}
    put(store, f"evidence/{A}/after.mp4", b"new")
    assert store.header_of(f"evidence/{A}/after.mp4").key_version == 2


def test_an_interrupted_rotation_is_finished_by_running_it_again(store):
    for i in range(3):
        put(store, f"evidence/{A}/{i}.mp4", content(100 + i))
    new = store.keys.create(A)  # a rotation that made its key, rewrapped one file and stopped
    store.rewrap(f"evidence/{A}/0.mp4", new)
    assert census(store, A) == {A: {"v1": 2, "v2": 1}}
    report = rotate_agency_key(store, A, upload_wait_s=0)
    assert (report.version, report.resumed, report.rewrapped, report.already, report.retired) == (2, True, 2, 1, [1])
    assert [store.open(f"evidence/{A}/{i}.mp4").read() for i in range(3)] == [content(100 + i) for i in range(3)]


def test_a_damaged_file_keeps_the_old_key_until_it_is_dealt_with(store):
    put(store, f"evidence/{A}/good.mp4", content(100))
    put(store, f"evidence/{A}/bad.mp4", content(100))
    rewrite(store, f"evidence/{A}/bad.mp4", flip(on_disk(store, f"evidence/{A}/bad.mp4"), 40))
    report = rotate_agency_key(store, A, upload_wait_s=0)
    assert [k for k, _ in report.damaged] == [f"evidence/{A}/bad.mp4"] and report.kept == [1] and not report.retired
    assert store.keys.version_numbers(A) == [1, 2]
    assert verify_all(store, A) == (2, report.damaged)
    store.delete(f"evidence/{A}/bad.mp4")
    report = rotate_agency_key(store, A, upload_wait_s=0)
    assert report.resumed and report.retired == [1] and store.keys.version_numbers(A) == [2]


def test_rotation_waits_for_an_upload_in_progress(store):
    put(store, f"evidence/{A}/done.mp4", content(100))
    part = store.root / "evidence" / A / "uploading.mp4.part"
    part.write_bytes(b"partial")
    report = rotate_agency_key(store, A, upload_wait_s=0.01, sleep=lambda s: None)
    assert report.waiting_uploads == 1 and report.kept == [1] and store.keys.version_numbers(A) == [1, 2]
    part.unlink()
    assert rotate_agency_key(store, A, upload_wait_s=0).retired == [1]


def test_the_hub_store_follows_the_setting(tmp_path):
    on = build_media_store(Settings(data_dir=tmp_path / "on"))
    off = build_media_store(Settings(data_dir=tmp_path / "off", media_encryption=False))
    assert isinstance(on, SealedMediaStore) and on.keys.root == tmp_path / "on" / "media-keys"
    assert on.keys.create_on_first_use
    assert type(off) is LocalMediaStore
    held = build_media_store(Settings(data_dir=tmp_path / "x", media_key_dir=tmp_path / "held"))
    assert held.keys.root == tmp_path / "held" and not held.keys.create_on_first_use


def test_first_use_from_many_threads_makes_one_key(tmp_path):
    from concurrent.futures import ThreadPoolExecutor

    store = SealedMediaStore(LocalMediaStore(tmp_path / "media"), MediaKeyRing(tmp_path / "keys",
                             create_on_first_use=True))
    with ThreadPoolExecutor(8) as pool:
        list(pool.map(lambda i: put(store, f"reads/{A}/ab/{i}.jpg", content(50 + i)), range(32)))
    assert store.keys.version_numbers(A) == [1] and os.listdir(tmp_path / "keys" / A) == ["v0001.key"]
    assert all(store.open(f"reads/{A}/ab/{i}.jpg").read() == content(50 + i) for i in range(32))
