"""Edge storage policies on real files: rolling retention (and its refusal while the clock jumps), eviction
under a disk budget that never touches held footage, and a real ENOSPC on a small tmpfs."""

from __future__ import annotations

import errno
import os
import subprocess
import threading
from datetime import timedelta

import pytest

from openrtcc.edge.alarms import Alarms
from openrtcc.edge.clock_watchdog import ClockWatchdog
from openrtcc.edge.retention import RetentionRunner
from openrtcc.edge.segment_store import SegmentStore, StorageFull
from tests.edge_storage import Budget, EdgeClock, record_clip, require_sample_clip
from tests.services import require_service



@pytest.fixture(autouse=True)
def _sample_clip():
    require_sample_clip()


@pytest.fixture
def edge_clock() -> EdgeClock:
    return EdgeClock()


@pytest.fixture
def open_store(tmp_path, edge_clock):
    stores: list[SegmentStore] = []

    def _open(budget: Budget | None = None, data_dir=None) -> SegmentStore:
        store = SegmentStore(data_dir or tmp_path / "edge", budget or Budget(), Alarms(edge_clock.now), edge_clock)
        stores.append(store)
        return store

    yield _open
    for s in stores:
        s.close()


def runner_for(store: SegmentStore, clock: EdgeClock, days: dict[str, int], batch: int = 2000) -> RetentionRunner:
    return RetentionRunner(store, store.day_keys, days.__getitem__, clock, store.alarms, monotonic=clock.monotonic,
                           batch=batch)


def stored_ids(store: SegmentStore) -> set[str]:
    return {s.id for s in store.segments()}


def test_retention_deletes_expired_footage_keeps_held_and_shreds_empty_days(open_store, edge_clock):
    store = open_store()
    t0 = edge_clock.now()
    old = record_clip(store, "cam1", t0, max_segments=3)
    newer = record_clip(store, "cam2", t0 + timedelta(days=1), max_segments=2)
    held = old[1].segment
    store.add_hold("hold-1", "cam1", held.started_at, held.started_at + timedelta(seconds=1),
                   case_number="C-17", requested_by="agency-1")
    edge_clock.advance(days=1, minutes=1)
    runner = runner_for(store, edge_clock, {"cam1": 3, "cam2": 3}, batch=1)  # pages past the held segment
    assert runner.run_once().deleted_segments == 0

    edge_clock.advance(days=2, hours=1)  # cam1's day is 3 days old, cam2's is not yet
    report = runner.run_once()
    assert report.refused is None
    assert (report.deleted_segments, report.kept_by_holds, report.shredded_days) == (2, 1, ())
    assert report.deleted_bytes == old[0].segment.size_bytes + old[2].segment.size_bytes
    assert stored_ids(store) == {held.id} | {r.segment.id for r in newer}
    assert not store.path_of(held).parent.joinpath(f"{old[0].segment.id}.seg").exists()
    assert store.read_plaintext(held) == old[1].plaintext  # held footage stays readable

    store.release_hold("hold-1")
    report = runner.run_once()
    assert report.deleted_segments == 1 and report.shredded_days == (t0.date(),)
    assert t0.date() not in store.day_keys.days()
    assert not (store.video_dir / t0.date().isoformat()).exists()
    assert all(store.read_plaintext(r.segment) == r.plaintext for r in newer)
    assert store.usage().used_bytes == sum(r.segment.size_bytes for r in newer)
    again = runner.run_once()  # idempotent
    assert (again.deleted_segments, again.shredded_days) == (0, ())


def test_a_shorter_owner_retention_applies_per_camera(open_store, edge_clock):
    store = open_store()
    a = record_clip(store, "cam1", edge_clock.now(), max_segments=1)
    b = record_clip(store, "cam2", edge_clock.now(), max_segments=1)
    edge_clock.advance(days=8)
    report = runner_for(store, edge_clock, {"cam1": 30, "cam2": 7}).run_once()
    assert report.deleted_segments == 1 and report.shredded_days == ()  # cam1 still needs the day's key
    assert stored_ids(store) == {a[0].segment.id}
    assert b  # recorded


def test_retention_refuses_to_delete_while_the_wall_clock_jumps(open_store, edge_clock):
    store = open_store()
    recorded = record_clip(store, "cam1", edge_clock.now(), max_segments=2)
    runner = runner_for(store, edge_clock, {"cam1": 30})
    runner.run_once()

    edge_clock.jump(days=40)  # the wall clock set 40 days ahead: everything would look expired
    report = runner.run_once()
    assert report.refused and "forward" in report.refused
    assert store.alarms.is_active("clock_jump")
    assert len(stored_ids(store)) == 2

    edge_clock.jump(days=-40)  # set right again: agrees with the monotonic clock, so it is sane
    assert runner.run_once().refused is None
    assert not store.alarms.is_active("clock_jump")

    edge_clock.mono += 3600  # a frozen wall clock while an hour passes
    assert "backward" in runner.run_once().refused
    assert len(stored_ids(store)) == 2
    runner.accept_clock()  # the hub (or the owner) confirms the time
    assert runner.run_once().refused is None and not store.alarms.is_active("clock_jump")

    # After a restart with a wall clock behind the newest recording, nothing is judged by age either.
    edge_clock.jump(days=-3)
    fresh = runner_for(store, edge_clock, {"cam1": 30})
    assert "behind the newest recording" in fresh.run_once().refused
    assert {s.id for s in store.segments()} == {r.segment.id for r in recorded}


def test_eviction_under_a_budget_takes_the_oldest_and_never_held_footage(open_store, edge_clock):
    store = open_store(Budget(max_bytes=2_500_000))
    t0 = edge_clock.now()
    store.add_hold("keep", "cam1", t0, t0)  # evidence asked for before the footage was even evicted
    first = record_clip(store, "cam1", t0)
    later = record_clip(store, "cam1", t0 + timedelta(minutes=1))
    assert store.usage().used_bytes <= 2_500_000
    kept = stored_ids(store)
    assert first[0].segment.id in kept  # held: survives although it is the oldest
    assert later[-1].segment.id in kept
    assert not {r.segment.id for r in first[1:]} & kept  # the oldest unheld went first
    assert store.read_plaintext(first[0].segment) == first[0].plaintext
    assert not store.alarms.is_active("disk_full")

    # Everything held: no room can be made, recording stops with an alarm, nothing held is lost.
    store.add_hold("all", "cam1", t0 - timedelta(days=1), t0 + timedelta(days=1))
    before = stored_ids(store)
    with pytest.raises(StorageFull):
        record_clip(store, "cam1", t0 + timedelta(minutes=2))
    assert store.alarms.is_active("disk_full")
    assert before <= stored_ids(store)
    for s in store.segments():
        assert s.ended_at is not None and s.size_bytes == store.path_of(s).stat().st_size
    assert store.usage().used_bytes == sum(s.size_bytes for s in store.segments()) <= 2_500_000

    store.release_hold("all")  # room returns: recording goes on and the alarm clears
    record_clip(store, "cam1", t0 + timedelta(minutes=3), max_segments=1)
    assert not store.alarms.is_active("disk_full")
    assert first[0].segment.id in stored_ids(store)


@pytest.fixture
def small_disk(tmp_path):
    mnt = tmp_path / "disk"
    mnt.mkdir()
    ok = os.geteuid() == 0 and subprocess.run(["mount", "-t", "tmpfs", "-o", "size=8m", "tmpfs", str(mnt)],
                                              capture_output=True).returncode == 0
    require_service(ok, "an 8 MB tmpfs mount (needs root)", "run the tests as root, where mount -t tmpfs works")
    yield mnt
    subprocess.run(["umount", "-l", str(mnt)], check=False)


def test_a_real_enospc_mid_segment_keeps_what_was_sealed_and_raises_the_alarm(small_disk, open_store, edge_clock):
    store = open_store(Budget(max_bytes=0, reserve_bytes=0), data_dir=small_disk / "edge")
    filler = small_disk / "someone-elses-file"

    def fill_the_disk(writer, tee):
        if filler.exists():
            return
        with open(filler, "wb", buffering=0) as f:
            try:
                while True:
                    f.write(b"\1" * 65536)
            except OSError as exc:
                assert exc.errno == errno.ENOSPC

    with pytest.raises(StorageFull) as info:
        record_clip(store, "cam1", edge_clock.now(), flush_every=30, on_flush=fill_the_disk)
    assert isinstance(info.value.__cause__, OSError) and info.value.__cause__.errno == errno.ENOSPC
    assert store.alarms.is_active("disk_full")
    (seg,) = store.segments()
    assert not seg.complete and seg.ended_at is not None
    assert seg.size_bytes == store.path_of(seg).stat().st_size
    assert len(store.read_plaintext(seg)) > 0
    assert store.usage().used_bytes == seg.size_bytes  # the record cut off by ENOSPC is not counted

    filler.unlink()  # room returns
    recorded = record_clip(store, "cam1", edge_clock.now() + timedelta(minutes=1), max_segments=1)
    assert store.read_plaintext(recorded[0].segment) == recorded[0].plaintext
    assert not store.alarms.is_active("disk_full")


def test_with_the_agents_clock_watchdog_retention_follows_its_judgement(open_store, edge_clock):
    store = open_store()
    record_clip(store, "cam1", edge_clock.now(), max_segments=1)
    watchdog = ClockWatchdog(edge_clock, store.alarms, monotonic=edge_clock.monotonic)
    runner = RetentionRunner(store, store.day_keys, lambda _c: 1, edge_clock, store.alarms,
                             monotonic=edge_clock.monotonic, watchdog=watchdog)
    edge_clock.jump(days=2)
    assert runner.run_once().refused
    assert store.alarms.is_active("clock_jump") and len(store.segments()) == 1
    runner.accept_clock()  # the hub confirmed the new time: the footage really is 2 days old
    assert not store.alarms.is_active("clock_jump")
    assert runner.run_once().deleted_segments == 1


def test_many_recorders_at_once_under_eviction_keep_the_index_and_usage_consistent(open_store, edge_clock):
    store = open_store(Budget(max_bytes=6_000_000))
    t0 = edge_clock.now()
    errors: list[BaseException] = []
    written: dict[str, bytes] = {}

    def recorder(cam: int) -> None:
        try:
            for n in range(6):
                w = store.open_segment(f"cam{cam}", t0 + timedelta(seconds=10 * n + cam / 100))
                payload = os.urandom(150_000)
                for i in range(0, len(payload), 1316):  # muxer-sized writes, flushed now and then
                    w.write(payload[i:i + 1316])
                    if i % 40_000 < 1316:
                        w.flush()
                written[w.close(t0 + timedelta(seconds=10 * n + 9)).id] = payload
        except BaseException as exc:  # noqa: BLE001 - reported below
            errors.append(exc)

    threads = [threading.Thread(target=recorder, args=(c,)) for c in range(8)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert not errors
    stored = store.segments()
    assert len(stored) < len(written)  # the budget made eviction run while others wrote
    assert store.usage().used_bytes == sum(s.size_bytes for s in stored) <= 6_000_000
    for s in stored:
        assert s.complete and store.read_plaintext(s) == written[s.id]


def test_after_the_clock_was_set_back_eviction_still_takes_the_first_recorded(open_store, edge_clock):
    store = open_store(Budget(max_bytes=2_500_000))
    t0 = edge_clock.now()
    before = record_clip(store, "cam1", t0, max_segments=3)
    after = record_clip(store, "cam1", t0 - timedelta(days=365), max_segments=2)  # dated a year earlier
    kept = stored_ids(store)
    assert {r.segment.id for r in after} <= kept  # the newest footage stays although it looks oldest
    assert before[0].segment.id not in kept
