"""Edge storage with real files, real PyAV and real AES-GCM: segments written through the SegmentStore read
back bit-identical; tampering, crashes, shredded days, retention, eviction and clip export behave."""

from __future__ import annotations

import io
import os
import shutil
import signal
import stat
import subprocess
import sys
from datetime import timedelta
from pathlib import Path

import av
import pytest

from openrtcc.edge.alarms import Alarms
from openrtcc.edge.day_keys import DayKeyDestroyed
from openrtcc.edge.sealed_files import TamperedSegment
from openrtcc.edge.segment_store import SegmentStore
from tests.edge_storage import Budget, EdgeClock, record_clip, require_sample_clip



@pytest.fixture(autouse=True)
def _sample_clip():
    require_sample_clip()

REPO = Path(__file__).resolve().parents[2]


@pytest.fixture
def edge_clock() -> EdgeClock:
    return EdgeClock()


@pytest.fixture
def open_store(tmp_path, edge_clock):
    stores: list[SegmentStore] = []

    def _open(budget: Budget | None = None, data_dir: Path | None = None) -> SegmentStore:
        store = SegmentStore(data_dir or tmp_path / "edge", budget or Budget(), Alarms(edge_clock.now), edge_clock)
        stores.append(store)
        return store

    yield _open
    for s in stores:
        s.close()


def demuxed_packets(data: bytes) -> int:
    with av.open(io.BytesIO(data), format="mpegts") as c:
        return sum(1 for p in c.demux(c.streams.video[0]) if p.size)


def test_segments_read_back_bit_identical_and_decodable(open_store, edge_clock):
    store = open_store()
    recorded = record_clip(store, "cam1", edge_clock.now())
    assert len(recorded) == 6  # one per GOP of the sample clip
    for r in recorded:
        seg = store.index.segment(r.segment.id)
        assert seg.complete and seg.ended_at > seg.started_at and seg.size_bytes > len(r.plaintext)
        assert store.read_plaintext(seg) == r.plaintext
        assert demuxed_packets(store.open_plaintext(seg).read()) == r.packets
        raw = store.path_of(seg).read_bytes()
        assert r.plaintext[188:1000] not in raw  # encrypted at rest
    assert sum(r.packets for r in recorded) == 339
    usage = store.usage()
    assert usage.used_bytes == sum(r.segment.size_bytes for r in recorded)
    assert usage.oldest_recording_at == recorded[0].segment.started_at
    found = store.segments("cam1", recorded[2].segment.started_at, recorded[3].segment.started_at)
    assert [s.id for s in found] == [r.segment.id for r in recorded[1:4]]


def test_an_altered_byte_a_swapped_file_or_a_cut_is_refused(open_store, edge_clock):
    store = open_store()
    a, b, c = record_clip(store, "cam1", edge_clock.now(), max_segments=3)
    path = store.path_of(a.segment)
    data = bytearray(path.read_bytes())
    data[len(data) // 2] ^= 0x01
    path.write_bytes(bytes(data))
    with pytest.raises(TamperedSegment, match="does not verify"):
        store.read_plaintext(a.segment)
    # b's file put in c's place: each file is bound to its own segment id
    store.path_of(c.segment).write_bytes(store.path_of(b.segment).read_bytes())
    with pytest.raises(TamperedSegment, match="another segment"):
        store.read_plaintext(c.segment)
    # a closed segment whose last records were cut away
    p = store.path_of(b.segment)
    p.write_bytes(p.read_bytes()[:-5000])
    with pytest.raises(TamperedSegment, match="cut short"):
        store.read_plaintext(b.segment)


WRITER = """
import sys, time
from pathlib import Path
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.segment_store import SegmentStore
from tests.edge_storage import Budget, EdgeClock, record_clip
clock = EdgeClock()
store = SegmentStore(Path(sys.argv[1]), Budget(), Alarms(clock.now), clock)
def on_flush(writer, tee):
    sys.stdout.write(f"{len(tee.copy)} {writer.segment.id}\\n")
    sys.stdout.flush()
    if len(tee.copy) > 300_000:
        time.sleep(60)
record_clip(store, "cam1", clock.now(), flush_every=10, on_flush=on_flush)
"""


def test_a_killed_writer_is_salvaged_up_to_its_last_sealed_record(tmp_path, open_store):
    data_dir = tmp_path / "edge"
    proc = subprocess.Popen([sys.executable, "-c", WRITER, str(data_dir)], cwd=REPO, stdout=subprocess.PIPE,
                            text=True)
    try:
        while True:
            line = proc.stdout.readline()
            assert line, "the writer ended before it had flushed 300 kB"
            flushed, segment_id = int(line.split()[0]), line.split()[1]
            if flushed > 300_000:
                break
    finally:
        proc.send_signal(signal.SIGKILL)
        proc.wait()
    # The muxer's bytes are deterministic: record the same clip to learn what the writer had been given.
    reference = record_clip(open_store(data_dir=tmp_path / "ref"), "cam1", EdgeClock().now(), max_segments=1)[0]
    torn_dir = tmp_path / "torn"
    shutil.copytree(data_dir, torn_dir)
    torn_file = next((torn_dir / "video").rglob(f"{segment_id}.seg"))
    torn_file.write_bytes(torn_file.read_bytes()[:-1000])  # and a variant where the crash tore the last record

    for where, cut in ((data_dir, False), (torn_dir, True)):
        store = open_store(data_dir=where)
        assert store.recovery.salvaged == 1
        seg = store.index.segment(segment_id)
        assert seg is not None and not seg.complete and seg.ended_at is not None
        salvaged = store.read_plaintext(seg)
        if cut:
            assert 0 < len(salvaged) < flushed
        else:
            assert len(salvaged) == flushed
        assert salvaged == reference.plaintext[:len(salvaged)]
        assert demuxed_packets(salvaged) > 10
        assert seg.size_bytes == store.path_of(seg).stat().st_size
        store.close()
        assert open_store(data_dir=where).recovery.salvaged == 0  # the next start finds nothing more to do


def test_a_segment_left_open_with_nothing_sealed_is_dropped_at_start(tmp_path, open_store, edge_clock):
    store = open_store()
    writer = store.open_segment("cam1", edge_clock.now())
    writer.write(b"\x47" * 1000)  # buffered, never sealed: the box stopped here
    store.close()
    again = open_store()
    assert (again.recovery.salvaged, again.recovery.dropped) == (0, 1)
    assert again.segments() == [] and not writer.path.exists()
    assert again.usage().used_bytes == 0


def test_unindexed_files_are_indexed_again_when_they_check_out_and_removed_when_not(tmp_path, open_store, edge_clock):
    store = open_store()
    recorded = record_clip(store, "cam1", edge_clock.now(), max_segments=3)
    first = recorded[0].segment
    cam_dir = store.path_of(first).parent
    copy = cam_dir / "0123456789abcdef0123456789abcdef.seg"  # our bytes under another segment's name
    copy.write_bytes(store.path_of(first).read_bytes())
    foreign = cam_dir / "notes.txt"
    foreign.write_text("the owner's file")
    store.index.delete_segments([first.id])  # a power cut undid the row's commit; the file survived
    store.close()

    again = open_store()
    assert (again.recovery.adopted, again.recovery.orphans_removed) == (1, 1)
    assert not copy.exists() and foreign.exists()
    back = again.index.segment(first.id)
    assert (back.started_at, back.complete, back.size_bytes) == (first.started_at, True, first.size_bytes)
    assert again.read_plaintext(back) == recorded[0].plaintext
    again.close()

    # The whole index lost: every segment is found again from its sealed header.
    for f in (tmp_path / "edge").glob("segments.sqlite3*"):
        f.unlink()
    rebuilt = open_store()
    assert rebuilt.recovery.adopted == 3
    assert [s.started_at for s in rebuilt.segments("cam1")] == [r.segment.started_at for r in recorded]
    assert rebuilt.usage().used_bytes == sum(r.segment.size_bytes for r in recorded)


def test_destroying_a_day_key_makes_that_day_unreadable_and_no_other(open_store, edge_clock, tmp_path):
    store = open_store()
    day1 = record_clip(store, "cam1", edge_clock.now(), max_segments=2)
    day2 = record_clip(store, "cam1", edge_clock.now() + timedelta(days=1), max_segments=2)
    keys = tmp_path / "edge" / "keys"
    assert stat.S_IMODE((keys / "master.key").stat().st_mode) == 0o600
    assert stat.S_IMODE((keys / "2026-11-20.key").stat().st_mode) == 0o600
    assert store.day_keys.destroy(day1[0].segment.day)
    assert not (keys / "2026-11-20.key").exists()
    for r in day1:
        with pytest.raises(DayKeyDestroyed, match="2026-11-20"):
            store.read_plaintext(r.segment)
    for r in day2:
        assert store.read_plaintext(r.segment) == r.plaintext
    store.close()
    again = open_store()  # and after a restart, from the wrapped keys on disk
    with pytest.raises(DayKeyDestroyed):
        again.read_plaintext(day1[1].segment)
    assert again.read_plaintext(day2[1].segment) == day2[1].plaintext


def test_with_the_wrong_master_key_recovery_leaves_footage_alone(tmp_path, open_store, edge_clock):
    store = open_store()
    writer = store.open_segment("cam1", edge_clock.now())
    writer.write(b"\x47" * 300_000)  # one record sealed, then the box stops
    (r,) = record_clip(store, "cam1", edge_clock.now() + timedelta(minutes=1), max_segments=1)
    unindexed = store.path_of(r.segment)
    store.index.delete_segments([r.segment.id])  # that one's row is lost too, as after a power cut
    store.close()
    master = tmp_path / "edge" / "keys" / "master.key"
    good_master = master.read_bytes()
    master.write_bytes(os.urandom(32))  # a restore put another box's key here

    confused = open_store()
    assert (confused.recovery.salvaged, confused.recovery.dropped, confused.recovery.adopted,
            confused.recovery.orphans_removed) == (0, 0, 0, 0)
    assert confused.alarms.is_active("key_missing")
    assert writer.path.exists() and unindexed.exists()
    confused.close()

    master.write_bytes(good_master)
    fixed = open_store()
    assert (fixed.recovery.salvaged, fixed.recovery.adopted) == (1, 1)
    assert fixed.read_plaintext(fixed.index.segment(writer.segment.id)) == b"\x47" * 300_000
    assert fixed.read_plaintext(fixed.index.segment(r.segment.id)) == r.plaintext


def test_a_hold_that_arrives_after_a_deletion_was_planned_still_keeps_the_footage(open_store, edge_clock):
    store = open_store()
    recorded = record_clip(store, "cam1", edge_clock.now(), max_segments=2)
    planned = [r.segment for r in recorded]  # e.g. retention's plan, made a moment ago
    store.add_hold("late", "cam1", recorded[1].segment.started_at, recorded[1].segment.started_at)
    result = store.delete_segments(planned)
    assert result.segments == 1 and result.bytes == recorded[0].segment.size_bytes
    assert [s.id for s in store.segments()] == [recorded[1].segment.id]
