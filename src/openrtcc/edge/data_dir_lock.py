"""One box per data folder: a second `rtcc edge` on the same folder would take the first one's open
segments for a crashed run's leftovers, and two read queues would number reads twice."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from openrtcc.domain.errors import InvalidInput

LOCK_NAME = "edge.lock"


class DataDirLock:
    """An exclusive lock on `<data_dir>/edge.lock`, held for the life of the process (the kernel drops it
    when the process dies, even by kill -9, so a crash never leaves the folder locked)."""

    def __init__(self, data_dir: Path):
        data_dir.mkdir(parents=True, exist_ok=True)
        self.path = data_dir / LOCK_NAME
        self._fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o600)
        try:
            fcntl.flock(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(self._fd)
            raise InvalidInput(f"another rtcc edge is already running on {data_dir}", code="edge_busy") from None
        os.ftruncate(self._fd, 0)
        os.write(self._fd, f"{os.getpid()}\n".encode())

    def release(self) -> None:
        if self._fd >= 0:
            fcntl.flock(self._fd, fcntl.LOCK_UN)
            os.close(self._fd)
            self._fd = -1
