"""Crash recovery of the segment store at start: segments left open are salvaged up to their last sealed
record and closed as incomplete; segment files the index does not know (orphans) are removed."""

from __future__ import annotations

import logging
import os
from dataclasses import dataclass
from datetime import UTC, date, datetime
from typing import TYPE_CHECKING

from openrtcc.domain.recording import Segment
from openrtcc.edge.day_keys import DayKeyError
from openrtcc.edge.sealed_files import MAGIC, EmptySegment, SealedReader, TamperedSegment

if TYPE_CHECKING:
    from openrtcc.edge.segment_store import SegmentStore

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class RecoveryReport:
    salvaged: int = 0  # open segments closed as incomplete with their sealed records
    dropped: int = 0  # open segments with nothing sealed (row and file removed)
    orphans_removed: int = 0


def recover_segments(store: SegmentStore) -> RecoveryReport:
    salvaged = dropped = 0
    for seg in store.index.open_segments():
        if _salvage(store, seg):
            salvaged += 1
        else:
            dropped += 1
    orphans = _remove_orphans(store)
    report = RecoveryReport(salvaged, dropped, orphans)
    if salvaged or dropped or orphans:
        log.warning("segment store recovered after a stop: %s salvaged, %s empty dropped, %s orphan files removed",
                    salvaged, dropped, orphans)
    return report


def _salvage(store: SegmentStore, seg: Segment) -> bool:
    """True if the segment kept some video (now finished, incomplete unless its final record is there)."""
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
    except (FileNotFoundError, IsADirectoryError, EmptySegment, TamperedSegment, DayKeyError):
        records = 0
    if not records:
        store.delete_segments([seg])
        return False
    # The end is not known after a crash: the file's last write is the best witness of it.
    store.index.finish_segment(seg.id, max(seg.started_at, mtime), good, complete)
    return True


def _remove_orphans(store: SegmentStore) -> int:
    removed = 0
    for day_dir in sorted(p for p in store.video_dir.iterdir() if p.is_dir()):
        try:
            day = date.fromisoformat(day_dir.name)
        except ValueError:
            continue
        for cam_dir in (p for p in day_dir.iterdir() if p.is_dir()):
            known = store.index.ids_in(day, cam_dir.name)
            for f in cam_dir.iterdir():
                if f.suffix == ".seg" and f.stem not in known and _looks_sealed(f):
                    f.unlink()
                    removed += 1
            _rmdir_if_empty(cam_dir)
        _rmdir_if_empty(day_dir)
    return removed


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
