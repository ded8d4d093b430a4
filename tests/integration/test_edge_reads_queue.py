"""The box's plate-read queue on real SQLite: a kill -9 loses no committed read and reuses no number; a
full disk is a clear error, never a silent loss."""

from __future__ import annotations

import os
import signal
import subprocess
import sys
from datetime import UTC, datetime, timedelta, timezone

import pytest

from openrtcc.domain.reads import ReadIn
from openrtcc.edge.read_queue import ReadQueue, ReadQueueError
from tests.plate_reads import JPEG, b64

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)

CHILD = """
import sys
from datetime import UTC, datetime, timedelta, timezone
from pathlib import Path
from openrtcc.domain.reads import ReadIn
from openrtcc.edge.read_queue import ReadQueue
queue = ReadQueue(Path(sys.argv[1]))
n = 0
while True:
    n += 1
    read = ReadIn(read_id="unnumbered", camera_id="cam-1", plate=f"K{n}", confidence=0.9,
                  captured_at=datetime.now(UTC))
    seq = queue.enqueue("cam-1", read, shared=True, now=datetime.now(UTC))
    print(seq, flush=True)  # after the commit: the parent may count this read as stored
"""


def a_read(plate: str, **kw) -> ReadIn:
    return ReadIn(read_id="unnumbered", camera_id="cam-1", plate=plate, confidence=0.9, captured_at=NOW, **kw)


def test_kill_minus_9_keeps_every_committed_read_once_and_never_reuses_a_number(tmp_path):
    db = tmp_path / "reads.db"
    child = subprocess.Popen([sys.executable, "-c", CHILD, str(db)], stdout=subprocess.PIPE, text=True,
                             env={**os.environ, "PYTHONUNBUFFERED": "1"})
    acknowledged = []
    try:
        while len(acknowledged) < 40:
            line = child.stdout.readline()
            assert line, "the enqueuing process died on its own"
            acknowledged.append(int(line))
        os.kill(child.pid, signal.SIGKILL)  # mid-stream: it is enqueueing as fast as it can
    finally:
        child.kill()
        child.wait()
    queue = ReadQueue(db)
    found = [q.seq for q in queue.peek("edge-1", 100_000)]
    assert set(acknowledged) <= set(found)
    assert found == list(range(1, len(found) + 1))  # each read once, numbers without gaps
    assert {q.read.read_id for q in queue.peek("edge-1", 3)} == {"edge-1:cam-1:1", "edge-1:cam-1:2", "edge-1:cam-1:3"}
    # Delivered reads leave; their numbers are still never handed out again, after a restart too.
    queue.delivered([q.row_id for q in queue.peek("edge-1", 100_000)])
    queue.close()
    queue = ReadQueue(db)
    assert queue.pending() == 0
    assert queue.enqueue("cam-1", a_read("NEXT1"), shared=True, now=NOW) == len(found) + 1
    assert queue.enqueue("cam-2", a_read("OTHER1"), shared=True, now=NOW) == 1  # per camera


def test_a_full_disk_is_an_error_and_what_was_committed_stays(tmp_path):
    queue = ReadQueue(tmp_path / "reads.db", max_page_count=64)  # 64 pages of 4 KiB: a tiny "disk"
    snapshot = JPEG[:-2] + b"\x00" * 60_000 + JPEG[-2:]
    stored = []
    with pytest.raises(ReadQueueError, match="cannot store a read"):
        for n in range(100):
            stored.append(queue.enqueue("cam-1", a_read(f"FULL{n}", snapshot=b64(snapshot)), shared=True, now=NOW))
    assert 0 < len(stored) < 100
    back = queue.peek("edge-1", 1000)
    assert [q.seq for q in back] == stored
    assert all(q.read.snapshot == snapshot for q in back)
    # Space comes back (reads delivered): the next read gets the next number, none was half-written.
    queue.delivered([q.row_id for q in back])
    assert queue.enqueue("cam-1", a_read("AFTER"), shared=True, now=NOW) == len(stored) + 1


def test_local_and_quarantined_reads_stay_on_the_box_out_of_the_way(tmp_path):
    queue = ReadQueue(tmp_path / "reads.db")
    queue.enqueue("cam-1", a_read("LOCAL1"), shared=False, now=NOW)
    queue.enqueue("cam-1", a_read("SEND1", crop=b64(JPEG)), shared=True, now=NOW)
    queue.enqueue("cam-1", a_read("SEND2"), shared=True, now=NOW)
    pending = queue.peek("e", 10)
    assert [q.read.plate for q in pending] == ["SEND1", "SEND2"] and pending[0].read.crop == JPEG
    queue.quarantine(pending[0].row_id, "422 camera_not_on_edge")
    assert [q.read.plate for q in queue.peek("e", 10)] == ["SEND2"]
    assert queue.counts() == {"pending": 1, "local": 1, "quarantined": 1}
    assert queue.quarantined() == [("cam-1", 2, "422 camera_not_on_edge")]
    queue.delivered([q.row_id for q in queue.peek("e", 10)] + [pending[0].row_id])  # quarantined: not deleted
    assert queue.counts() == {"pending": 0, "local": 1, "quarantined": 1}


def test_retention_purges_old_local_and_quarantined_reads_never_pending_ones(tmp_path):
    queue = ReadQueue(tmp_path / "reads.db")
    old, recent = NOW - timedelta(days=31), NOW - timedelta(days=1)
    queue.enqueue("cam-1", a_read("OLDLOC"), shared=False, now=old)
    queue.enqueue("cam-1", a_read("OLDQ"), shared=True, now=old)
    queue.enqueue("cam-1", a_read("OLDPEND"), shared=True, now=old)
    queue.enqueue("cam-1", a_read("NEWLOC"), shared=False, now=recent.astimezone(timezone(timedelta(hours=-6))))
    queue.quarantine(queue.peek("e", 1)[0].row_id, "422 refused")
    assert queue.purge_kept(NOW - timedelta(days=30)) == 2
    assert queue.counts() == {"pending": 1, "local": 1, "quarantined": 0}
    assert [q.read.plate for q in queue.peek("e", 10)] == ["OLDPEND"]
