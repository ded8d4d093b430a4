"""The sealed segment format and the day keys with real AES-GCM: every way of altering a file is refused,
a cut file gives its whole records back, and keys fail clearly."""

from __future__ import annotations

import io
import os
import struct
from datetime import UTC, date, datetime

import pytest

from openrtcc.edge.day_keys import DayKeyDestroyed, DayKeyError, DayKeys
from openrtcc.edge.sealed_files import FINAL_BIT, SealedReader, SealedWriter, TamperedSegment, read_header

KEY = os.urandom(32)
DAY = date(2026, 11, 20)
START = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
CHUNKS = [os.urandom(1000), os.urandom(2000), os.urandom(500)]


def sealed() -> tuple[bytes, int, list[tuple[int, int]]]:
    """A file of three records plus the (empty) final one; (data, header length, [(offset, length)])."""
    f = io.BytesIO()
    w = SealedWriter(f, KEY, "seg1", DAY, START, "mpegts", chunk_bytes=1 << 20)
    for c in CHUNKS:
        w.write(c)
        w.flush()
    w.close()
    data = f.getvalue()
    header = len(read_header(io.BytesIO(data)).raw)
    records, pos = [], header
    while pos < len(data):
        (word,) = struct.unpack(">I", data[pos:pos + 4])
        records.append((pos, 4 + (word & ~FINAL_BIT)))
        pos += 4 + (word & ~FINAL_BIT)
    return data, header, records


def read_all(data: bytes, key: bytes = KEY) -> tuple[bytes, bool]:
    reader = SealedReader(io.BytesIO(data), lambda _d: key)
    out = b"".join(reader.records())
    return out, reader.complete


def piece(data, records, i):
    off, n = records[i]
    return data[off:off + n]


def test_a_whole_file_reads_back_complete():
    data, _, records = sealed()
    assert len(records) == 4
    assert read_all(data) == (b"".join(CHUNKS), True)
    h = read_header(io.BytesIO(data))
    assert (h.segment_id, h.day, h.started_at, h.container) == ("seg1", DAY, START, "mpegts")


def altered(kind: str) -> bytes:
    data, header, r = sealed()
    head, recs = data[:header], [piece(data, r, i) for i in range(len(r))]
    if kind == "flipped byte":
        b = bytearray(data)
        b[r[1][0] + 40] ^= 1
        return bytes(b)
    if kind == "records swapped":
        return head + recs[1] + recs[0] + recs[2] + recs[3]
    if kind == "record dropped from the middle":
        return head + recs[0] + recs[2] + recs[3]
    if kind == "cut and marked final":
        word = struct.unpack(">I", recs[0][:4])[0] | FINAL_BIT
        return head + struct.pack(">I", word) + recs[0][4:]
    if kind == "data after the final record":
        return data + b"\0\0\0\x20" + os.urandom(32)
    if kind == "header changed":
        return head.replace(b"seg1", b"seg2") + b"".join(recs)
    if kind == "record from another file":
        other = SealedWriter(f := io.BytesIO(), KEY, "seg1", DAY, START, "mpegts")
        other.write(CHUNKS[0])
        other.close()
        return head + f.getvalue()[header:]
    if kind == "impossible length":
        return head + b"\x00\x00\x00\x05" + b"abcde" + b"".join(recs)
    raise AssertionError(kind)


ALTERATIONS = ["flipped byte", "records swapped", "record dropped from the middle", "cut and marked final",
               "data after the final record", "header changed", "record from another file", "impossible length"]


@pytest.mark.parametrize("kind", ALTERATIONS)
def test_an_altered_file_is_refused(kind):
    with pytest.raises(TamperedSegment):
        read_all(altered(kind))


def test_the_wrong_key_is_refused():
    data, _, _ = sealed()
    with pytest.raises(TamperedSegment):
        read_all(data, os.urandom(32))


@pytest.mark.parametrize("cut", ["final record", "inside a record", "inside a length word", "zero-filled tail"])
def test_a_cut_file_gives_its_whole_records_and_says_it_is_incomplete(cut):
    data, _, r = sealed()
    if cut == "final record":
        data, expect = data[:r[3][0]], b"".join(CHUNKS)
    elif cut == "inside a record":
        data, expect = data[:r[2][0] + 100], b"".join(CHUNKS[:2])
    elif cut == "inside a length word":
        data, expect = data[:r[1][0] + 2], CHUNKS[0]
    else:  # a power cut can leave the file's last blocks zeroed
        data, expect = data[:r[2][0]] + b"\0" * 4096, b"".join(CHUNKS[:2])
    assert read_all(data) == (expect, False)


def test_not_a_segment_file():
    with pytest.raises(TamperedSegment, match="not a sealed segment"):
        read_all(b"GIF89a" + os.urandom(100))


def test_day_keys_are_wrapped_by_the_master_key_and_fail_clearly(tmp_path):
    keys = DayKeys(tmp_path)
    k = keys.key_for(DAY, create=True)
    assert len(k) == 32 and keys.key_for(DAY) == k and DayKeys(tmp_path).key_for(DAY) == k
    assert k not in (tmp_path / "keys" / "2026-11-20.key").read_bytes()
    with pytest.raises(DayKeyDestroyed, match="2026-11-21"):
        keys.key_for(date(2026, 11, 21))
    assert keys.days() == [DAY]
    assert keys.destroy(DAY) and not keys.destroy(DAY)
    with pytest.raises(DayKeyDestroyed):
        DayKeys(tmp_path).key_for(DAY)

    DayKeys(tmp_path).key_for(DAY, create=True)
    (tmp_path / "keys" / "master.key").write_bytes(os.urandom(32))  # another box's master key
    with pytest.raises(DayKeyError, match="does not open"):
        DayKeys(tmp_path).key_for(DAY)
    (tmp_path / "keys" / "master.key").unlink()
    with pytest.raises(DayKeyError, match="master.key is missing"):
        DayKeys(tmp_path)
