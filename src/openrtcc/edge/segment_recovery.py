"""Crash recovery of the segment store at start: segments left open are salvaged up to their last sealed
record and closed as incomplete; segment files the index does not know are indexed again when they check
out, and removed when they do not."""

from __future__ import annotations

import logging
import os
import sqlite3
from dataclasses import dataclass
from datetime import UTC, date, datetime, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

from openrtcc.domain.recording import Segment
from openrtcc.edge.day_keys import DayKeyDestroyed, DayKeyError
from openrtcc.edge.segment_index import MAX_SEGMENT_SECONDS
from openrtcc.edge.sealed_files import MAGIC, EmptySegment, SealedReader, TamperedSegment

if TYPE_CHECKING:
    from openrtcc.edge.segment_store import SegmentStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    salvaged: int = 0  # open segments closed as incomplete with their sealed records
    dropped: int = 0  # open segments with nothing sealed (row and file removed)
    adopted: int = 0  # files whose index row was lost, indexed again from their sealed header
    orphans_removed: int = 0  # files of ours that failed the check or held nothing


def recover_segments(store: SegmentStore) -> RecoveryReport:
    outcomes = [_salvage(store, seg) for seg in store.index.open_segments()]
    salvaged, dropped = outcomes.count("salvaged"), outcomes.count("dropped")
    adopted, removed = _sweep_unindexed(store)
    report = RecoveryReport(salvaged, dropped, adopted, removed)
    if salvaged or dropped or adopted or removed:
        log.warning("segment store recovered after a stop: %s salvaged, %s empty dropped, %s unindexed files "
                    "indexed again, %s unusable files removed", salvaged, dropped, adopted, removed)
    return report


def _salvage(store: SegmentStore, seg: Segment) -> str:
    """"salvaged" (finished, incomplete unless its final record is there), "dropped" (nothing in it could be
    read) or "left" (its key cannot be used now)."""
    path = store.data_dir / (store.index.path_of(seg.id) or "")
    records, good, complete = 0, 0, False
    try:
        with open(path, "r+b") as f:
            reader = SealedReader(f, store.day_keys.key_for)
            try:
                for _ in reader.records():
                    records += 1
            except TamperedSegment:
                log.warning("segment %s: a damaged record after %s good ones; keeping those", seg.id, records)
            good, complete = reader.good_bytes, reader.complete
            if records:
                f.truncate(good)  # drop the torn tail so that later reads end cleanly
            mtime = datetime.fromtimestamp(os.fstat(f.fileno()).st_mtime, UTC)
    except DayKeyDestroyed:
        records = 0  # its day was shredded: nothing in it can be read again
    except DayKeyError as exc:
        _key_problem(store, seg.id, exc)  # a key problem is not the file's: leave it for when it is fixed
        return "left"
    except (FileNotFoundError, IsADirectoryError, EmptySegment, TamperedSegment):
        records = 0
    if not records:
        store.delete_segments([seg], empty=True)
        return "dropped"
    store.index.finish_segment(seg.id, _end_from(seg.started_at, mtime), good, complete)
    return "salvaged"


def _sweep_unindexed(store: SegmentStore) -> tuple[int, int]:
    """(adopted, removed): files of ours without an index row. A power cut can undo the last commits of the
    index (WAL, synchronous=NORMAL), so a file that checks out (its header names this file's segment, day
    and a readable record) is indexed again from its header; one that does not, or holds nothing, goes."""
    adopted = removed = 0
    for day_dir in sorted(p for p in store.video_dir.iterdir() if p.is_dir()):
        try:
            day = date.fromisoformat(day_dir.name)
        except ValueError:
            continue
        for cam_dir in (p for p in day_dir.iterdir() if p.is_dir()):
            for f in _unindexed_in(store, day, cam_dir):
                outcome = _adopt(store, f, day, cam_dir.name) if _looks_sealed(f) else "leave"
                if outcome == "adopted":
                    adopted += 1
                elif outcome == "remove":
                    f.unlink()
                    removed += 1
            _rmdir_if_empty(cam_dir)
        _rmdir_if_empty(day_dir)
    return adopted, removed


def _unindexed_in(store: SegmentStore, day: date, cam_dir: Path) -> list[Path]:
    # Names only, and ids from the index only where the counts differ: a full box holds millions of segment
    # files (about 26 million for 100 cameras, 30 days, 10 s segments), nearly all of them known.
    names = os.listdir(cam_dir)
    if len(names) == store.index.count_in(day, cam_dir.name):
        return []
    known = store.index.ids_in(day, cam_dir.name)
    return [cam_dir / n for n in names if n.endswith(".seg") and n[:-4] not in known]


def _adopt(store: SegmentStore, path: Path, day: date, camera_id: str) -> str:
    """"adopted", "remove" (it failed the check, holds nothing, or its day was shredded) or "leave"."""
    records = 0
    try:
        with open(path, "r+b") as f:
            reader = SealedReader(f, store.day_keys.key_for)
            h = reader.header
            if h.segment_id != path.stem or h.day != day or h.started_at.date() != day:
                return "remove"
            for _ in reader.records():
                records += 1
            if not records:
                return "remove"
            f.truncate(reader.good_bytes)
            mtime = datetime.fromtimestamp(os.fstat(f.fileno()).st_mtime, UTC)
    except (EmptySegment, TamperedSegment, DayKeyDestroyed):
        return "remove"
    except DayKeyError as exc:
        _key_problem(store, path.stem, exc)
        return "leave"
    except OSError as exc:
        log.warning("cannot check unindexed segment file %s: %s", path.name, exc.strerror)
        return "leave"
    segment = Segment(id=h.segment_id, camera_id=camera_id, day=day, started_at=h.started_at,
                      ended_at=_end_from(h.started_at, mtime), size_bytes=reader.good_bytes,
                      complete=reader.complete, container=h.container)
    try:
        store.index.add_segment(segment, f"video/{day.isoformat()}/{camera_id}/{path.name}")
    except sqlite3.Error:
        return "leave"
    return "adopted"


def _key_problem(store: SegmentStore, segment_id: str, exc: DayKeyError) -> None:
    log.error("segment %s left as it is: %s", segment_id, exc)
    store.alarms.raise_("key_missing", str(exc)[:300])


def _end_from(started_at: datetime, mtime: datetime) -> datetime:
    """The end is not known after a crash: the file's last write is the best witness, within reason."""
    return min(max(started_at, mtime), started_at + timedelta(seconds=MAX_SEGMENT_SECONDS))


def _looks_sealed(path) -> bool:
    """Only files this box wrote are removed (ours by their magic, or empty leftovers)."""
    try:
        with open(path, "rb") as f:
            head = f.read(len(MAGIC))
    except OSError:
        return False
    return head == MAGIC[:len(head)]


def _rmdir_if_empty(path) -> None:
    try:
        path.rmdir()
    except OSError:
        pass
