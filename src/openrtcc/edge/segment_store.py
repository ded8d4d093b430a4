"""Where the recorders write: encrypted segment files under a disk budget, their index, and evidence holds.

Files live at `<data_dir>/video/<day>/<camera>/<segment id>.seg`, sealed under the day's key; the index row
is written before the file is created and finished after it is closed, so a crash leaves at worst a row
without an end (salvaged at the next start). A power cut that undoes the index's last commits leaves files
it does not know: the next start indexes them again from their sealed headers (segment_recovery.py).
"""

from __future__ import annotations

import errno
import logging
import os
import re
import sqlite3
import threading
import uuid
from collections.abc import Iterator
from dataclasses import dataclass, replace
from datetime import UTC, date, datetime
from pathlib import Path
from typing import Protocol

from openrtcc.domain.clock import Clock
from openrtcc.domain.edge_protocol import DiskUsage
from openrtcc.domain.errors import Conflict, InvalidInput
from openrtcc.domain.recording import Hold, Segment, is_held, plan_eviction
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.day_keys import DayKeyError, DayKeys
from openrtcc.edge.segment_index import SegmentIndex
from openrtcc.edge.segment_recovery import recover_segments
from openrtcc.edge.sealed_files import CHUNK_BYTES, PlaintextStream, SealedReader, SealedWriter, TamperedSegment

log = logging.getLogger(__name__)

_CAMERA_ID = re.compile(r"^[A-Za-z0-9][A-Za-z0-9_.:-]{0,63}$")
CONTAINERS = ("mpegts", "mp4", "matroska")
FS_RECHECK_BYTES = 4 * 1024 * 1024
# Space set aside on the disk (a file of our own) and given up when the disk fills, so that the index can
# still record how the interrupted segment ended.
BALLAST_BYTES = 1024 * 1024


class StorageFull(Exception):
    """No room for video: the budget is used up by footage that may not be evicted (held or being written),
    or the filesystem itself is full. Plate reads keep flowing; recording resumes when room returns."""


class StorageError(Exception):
    """The disk failed a write (other than running out of space); the segment was closed as incomplete."""


class RecordingBudget(Protocol):
    max_bytes: int  # 0: no fixed cap, the filesystem's free space decides
    reserve_bytes: int


@dataclass(frozen=True, slots=True)
class DeletionResult:
    segments: int
    bytes: int


class SegmentStore:
    def __init__(self, data_dir: Path, budget: RecordingBudget, alarms: Alarms, clock: Clock, *,
                 day_keys: DayKeys | None = None, chunk_bytes: int = CHUNK_BYTES):
        self.data_dir = Path(data_dir)
        self.video_dir = self.data_dir / "video"
        self.video_dir.mkdir(parents=True, exist_ok=True)
        self.budget = budget
        self.alarms = alarms
        self.clock = clock
        self.day_keys = day_keys or DayKeys(self.data_dir)
        self.index = SegmentIndex(self.data_dir / "segments.sqlite3")
        self._chunk = chunk_bytes
        self._lock = threading.RLock()
        self._fs_seen: tuple[int, int] | None = None  # (free + used, used) at the last statvfs
        self._ballast = self.data_dir / "segments.ballast"
        self._used = 0
        self.recovery = recover_segments(self)
        self._used = self.index.total_bytes()
        self._ensure_ballast()

    def close(self) -> None:
        self.index.close()

    # ------------------------------------------------------------ writing

    def open_segment(self, camera_id: str, started_at: datetime, container: str = "mpegts") -> SegmentWriter:
        """A writer for a new segment. Raises StorageFull when no room can be made by eviction."""
        if not _CAMERA_ID.match(camera_id):
            raise InvalidInput("camera ids are 1-64 letters, digits and _.:-", code="camera_id")
        if container not in CONTAINERS:
            raise InvalidInput(f"container must be one of {', '.join(CONTAINERS)}", code="container")
        if started_at.tzinfo is None:
            raise InvalidInput("started_at must carry a timezone", code="naive_time")
        started_at = started_at.astimezone(UTC)
        day = started_at.date()
        self.reserve(self._chunk, fresh=True)  # room for the first record, or StorageFull before anything is made
        segment = Segment(id=uuid.uuid4().hex, camera_id=camera_id, day=day, started_at=started_at,
                          ended_at=None, size_bytes=0, complete=False, container=container)
        rel = f"video/{day.isoformat()}/{camera_id}/{segment.id}.seg"
        path = self.data_dir / rel
        self._release(self._chunk)
        try:
            key = self.day_keys.key_for(day, create=True)
        except DayKeyError as exc:
            self.alarms.raise_("key_missing", str(exc))
            raise StorageError(str(exc)) from exc
        except OSError as exc:
            self._raise_for_os_error(exc, camera_id)
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            self.index.add_segment(segment, rel)
        except (OSError, sqlite3.Error) as exc:
            self._raise_for_os_error(exc, camera_id)
        try:
            f = open(path, "xb", buffering=0)
        except OSError as exc:
            self.index.delete_segments([segment.id])
            self._raise_for_os_error(exc, camera_id)
        return SegmentWriter(self, segment, path, f, key)

    def reserve(self, nbytes: int, fresh: bool = False) -> None:
        """Account nbytes about to be written, evicting the oldest footage that is not held to make room."""
        with self._lock:
            budget = self.budget_bytes(fresh=fresh)
            if self._used + nbytes > budget:
                # Evict a little more than needed so that eviction runs now and then, not on every record.
                slack = min(64 * 1024 * 1024, budget // 20)
                self._evict(self._used + nbytes - budget + slack)
                budget = self.budget_bytes(fresh=True)
                if self._used + nbytes > budget:
                    self.alarms.raise_("disk_full", "no room for video: the disk budget is used up by held "
                                       "or still-open footage; recording has stopped, plate reads go on")
                    raise StorageFull(f"no room for {nbytes} bytes of video ({self._used} of {budget} used, "
                                      "nothing left that may be evicted)")
            self._used += nbytes
            if self.alarms.is_active("disk_full"):
                self._ensure_ballast()
                self.alarms.clear("disk_full")

    def _ensure_ballast(self) -> None:
        if self._ballast.exists():
            return
        try:
            fd = os.open(self._ballast, os.O_WRONLY | os.O_CREAT, 0o600)
            try:
                os.posix_fallocate(fd, 0, BALLAST_BYTES)
            finally:
                os.close(fd)
        except OSError as exc:
            self._ballast.unlink(missing_ok=True)
            log.warning("could not set disk space aside for the segment index: %s", exc.strerror)

    def _drop_ballast(self) -> None:
        self._ballast.unlink(missing_ok=True)

    def _release(self, nbytes: int) -> None:
        with self._lock:
            self._used = max(0, self._used - nbytes)

    def budget_bytes(self, fresh: bool = False) -> int:
        """max_bytes, and never more than the filesystem's free space plus our own usage minus the reserve.
        The filesystem is asked again every FS_RECHECK_BYTES written (statvfs on every record would cost more
        than the encryption); a disk filled by someone else in between shows up as ENOSPC, handled."""
        with self._lock:
            if fresh or self._fs_seen is None or abs(self._used - self._fs_seen[1]) >= FS_RECHECK_BYTES:
                st = os.statvfs(self.video_dir)
                self._fs_seen = (st.f_bavail * st.f_frsize + self._used, self._used)
            by_filesystem = max(0, self._fs_seen[0] - self.budget.reserve_bytes)
        return min(self.budget.max_bytes, by_filesystem) if self.budget.max_bytes else by_filesystem

    def _evict(self, needed: int) -> None:
        holds = self.index.holds()
        after = 0
        while needed > 0:
            batch = self.index.oldest_finished(after_seq=after)
            if not batch:
                return
            plan = plan_eviction(batch, holds, needed)
            if plan.evict:
                self.delete_segments(plan.evict)
                log.warning("disk budget: evicted %s oldest segments (%s bytes)", len(plan.evict), plan.freed_bytes)
            needed -= plan.freed_bytes
            after = batch[-1].seq

    def _raise_for_os_error(self, exc: OSError | sqlite3.Error, camera_id: str | None):
        full = getattr(exc, "errno", None) == errno.ENOSPC
        if full or getattr(exc, "sqlite_errorcode", None) == sqlite3.SQLITE_FULL:
            self.alarms.raise_("disk_full", "the disk is full: recording has stopped, plate reads go on")
            raise StorageFull("the disk is full") from exc
        reason = getattr(exc, "strerror", None) or str(exc)
        self.alarms.raise_("storage_error", f"a video write failed: {reason}", camera_id)
        raise StorageError(f"writing video failed: {reason}") from exc

    def _finish(self, writer: SegmentWriter, ended_at: datetime | None, complete: bool) -> Segment:
        seg = writer.segment
        ended = max(seg.started_at, (ended_at or self.clock.now()).astimezone(UTC))
        if writer.records == 0:
            self.delete_segments([seg], empty=True)  # nothing sealed: the segment never held any video
            self._release(writer.reserved_bytes)
            return replace(seg, ended_at=ended)
        self._release(writer.reserved_bytes - writer.sealed_bytes)  # a record reserved but cut off
        try:
            self.index.finish_segment(seg.id, ended, writer.sealed_bytes, complete)
        except sqlite3.Error as exc:
            # The row stays open; the next start salvages the file up to its last sealed record.
            self.alarms.raise_("storage_error", f"the segment index could not be updated: {exc}")
            log.error("segment %s: index update failed (%s); it will be salvaged at the next start", seg.id, exc)
        return replace(seg, ended_at=ended, size_bytes=writer.sealed_bytes, complete=complete)

    # ------------------------------------------------------------ reading

    def usage(self) -> DiskUsage:
        with self._lock:
            used = self._used
        return DiskUsage(used_bytes=used, budget_bytes=self.budget_bytes(),
                         oldest_recording_at=self.index.oldest_start())

    def segments(self, camera_id: str | None = None, start: datetime | None = None,
                 end: datetime | None = None) -> list[Segment]:
        return self.index.segments(camera_id, start, end)

    def path_of(self, segment: Segment) -> Path:
        rel = self.index.path_of(segment.id)
        if rel is None:
            raise FileNotFoundError(f"segment {segment.id} is no longer stored")
        return self.data_dir / rel

    def iter_plaintext(self, segment: Segment) -> Iterator[bytes]:
        """The segment's bytes as the muxer wrote them, record by record. Raises TamperedSegment (before or
        during iteration: never serve what follows a bad record) and DayKeyDestroyed."""
        path = self.path_of(segment)
        with open(path, "rb") as f:
            reader = SealedReader(f, self.day_keys.key_for)
            if reader.header.segment_id != segment.id or reader.header.day != segment.day:
                raise TamperedSegment(f"{path.name} holds another segment's data")
            yield from reader.records()
            if segment.complete and not reader.complete:
                raise TamperedSegment(f"segment {segment.id} was closed but its file has been cut short")

    def read_plaintext(self, segment: Segment) -> bytes:
        return b"".join(self.iter_plaintext(segment))

    def open_plaintext(self, segment: Segment) -> PlaintextStream:
        """A read-only file object over the decrypted segment (for PyAV's demuxer)."""
        return PlaintextStream(self.iter_plaintext(segment))

    # ------------------------------------------------------------ deleting

    def delete_segments(self, segments: list[Segment] | tuple[Segment, ...], *,
                        empty: bool = False) -> DeletionResult:
        """Files first, then rows: a crash in between leaves rows without files, which the next run removes.
        Holds are read again under the lock (one may have come since the caller planned): held segments are
        skipped, unless `empty` (segments that never held any video)."""
        with self._lock:
            holds = [] if empty else self.index.holds()
            gone = [s for s in segments if not is_held(s, holds) and self.index.path_of(s.id) is not None]
            for seg in gone:
                try:
                    (self.data_dir / self.index.path_of(seg.id)).unlink()
                except FileNotFoundError:
                    pass
            self.index.delete_segments(s.id for s in gone)
            total = sum(s.size_bytes for s in gone)
            self._release(total)
        return DeletionResult(len(gone), total)

    def remove_day_dir(self, day: date) -> None:
        """Remove the day's directories once they hold no file (after retention emptied them)."""
        day_dir = self.video_dir / day.isoformat()
        if not day_dir.is_dir():
            return
        for cam_dir in day_dir.iterdir():
            try:
                cam_dir.rmdir()
            except OSError:
                pass
        try:
            day_dir.rmdir()
        except OSError:
            pass

    # ------------------------------------------------------------ holds

    def add_hold(self, hold_id: str, camera_id: str, start: datetime, end: datetime, *,
                 case_number: str | None = None, requested_by: str | None = None) -> Hold:
        """Keep the camera's footage in [start, end] past retention and eviction. Idempotent per hold_id."""
        if not _CAMERA_ID.match(camera_id) or not 0 < len(hold_id) <= 64:
            raise InvalidInput("a hold needs a camera id and a hold id of 1-64 characters", code="hold_invalid")
        if start.tzinfo is None or end.tzinfo is None or end < start:
            raise InvalidInput("a hold needs a timezone-aware range with start <= end", code="hold_range")
        hold = Hold(hold_id=hold_id, camera_id=camera_id, start=start.astimezone(UTC), end=end.astimezone(UTC),
                    case_number=case_number, requested_by=requested_by)
        with self._lock:  # so that no deletion planned before the hold carries out after it
            existing = self.index.hold(hold_id)
            if existing is not None:
                if (existing.camera_id, existing.start, existing.end) != (hold.camera_id, hold.start, hold.end):
                    raise Conflict(f"hold {hold_id} already exists with another camera or range",
                                   code="hold_conflict")
                return existing
            self.index.add_hold(hold, self.clock.now())
        return hold

    def release_hold(self, hold_id: str) -> Hold | None:
        self.index.release_hold(hold_id, self.clock.now())
        return self.index.hold(hold_id)

    def holds(self, include_released: bool = False) -> list[Hold]:
        return self.index.holds(include_released)


class SegmentWriter:
    """File-like for PyAV's muxer: write(b) -> int, flush(), then close(ended_at) (or abort()).

    On StorageFull or a disk error the segment is closed as incomplete with every sealed record kept and
    indexed, and the error is raised: the recorder stops writing this camera until open_segment succeeds.
    """

    def __init__(self, store: SegmentStore, segment: Segment, path: Path, f, key: bytes):
        self.segment = segment
        self.path = path
        self._store = store
        self._f = f
        self._failed: BaseException | None = None
        self.finished: Segment | None = None
        self.reserved_bytes = 0  # accounted in the store's usage; more than sealed_bytes after a failed write
        self._sealed = SealedWriter(f, key, segment.id, segment.day, segment.started_at, segment.container,
                                    chunk_bytes=store._chunk,
                                    before_seal=self._reserve)

    def _reserve(self, nbytes: int) -> None:
        self._store.reserve(nbytes)
        self.reserved_bytes += nbytes

    @property
    def sealed_bytes(self) -> int:
        return self._sealed.sealed_bytes

    @property
    def records(self) -> int:
        return self._sealed.records

    def writable(self) -> bool:
        return True

    def write(self, data: bytes) -> int:
        self._check()
        try:
            return self._sealed.write(data)
        except (StorageFull, OSError) as exc:
            self._fail(exc)

    def flush(self) -> None:
        self._check()
        try:
            self._sealed.flush()
        except (StorageFull, OSError) as exc:
            self._fail(exc)

    def close(self, ended_at: datetime | None = None) -> Segment:
        """Seal the final record, fsync, and finish the index row: the segment is complete."""
        if self.finished is not None:
            return self.finished
        self._check()
        try:
            self._sealed.close()
            os.fsync(self._f.fileno())
        except (StorageFull, OSError) as exc:
            self._fail(exc)
        self._f.close()
        self.finished = self._store._finish(self, ended_at, complete=True)
        return self.finished

    def abort(self, ended_at: datetime | None = None) -> Segment | None:
        """Stop without the final record: what is buffered is sealed if it can be, the rest is kept as an
        incomplete segment (or removed when nothing was sealed)."""
        if self.finished is not None or self._failed is not None:
            return self.finished
        try:
            self._sealed.flush()
        except (StorageFull, OSError):
            self._truncate_to_sealed()
        self._f.close()
        self.finished = self._store._finish(self, ended_at, complete=False)
        return self.finished

    def _check(self) -> None:
        if self._failed is not None:
            raise StorageError(f"segment {self.segment.id} was stopped after an error: {self._failed}")
        if self.finished is not None:
            raise ValueError("the segment is closed")

    def _truncate_to_sealed(self) -> None:
        try:
            os.ftruncate(self._f.fileno(), self._sealed.sealed_bytes)
        except OSError:
            log.exception("could not cut %s back to its last sealed record", self.path.name)

    def _fail(self, exc: BaseException):
        """Keep the sealed records, index them as incomplete, raise a clear error."""
        self._failed = exc
        self._truncate_to_sealed()
        try:
            self._f.close()
        except OSError:
            pass
        if isinstance(exc, OSError) and exc.errno == errno.ENOSPC:
            self._store._drop_ballast()
        self.finished = self._store._finish(self, None, complete=False)
        if isinstance(exc, StorageFull):
            raise exc
        self._store._raise_for_os_error(exc, self.segment.camera_id)
