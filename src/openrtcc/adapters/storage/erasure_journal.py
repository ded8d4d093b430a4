"""The erasure journal as an append-only file: one JSON line per deletion or revocation, locked and fsynced, so
several hub processes sharing the folder append whole lines and a crash leaves at most a torn last line."""

from __future__ import annotations

import fcntl
import os
from pathlib import Path

from openrtcc.domain.erasures import Erasure, parse_journal
from openrtcc.domain.errors import Unavailable

JOURNAL_NAME = "erasures.jsonl"


class FileErasureJournal:
    def __init__(self, folder: Path):
        self.folder = folder
        self.path = folder / JOURNAL_NAME

    def append(self, erasure: Erasure) -> None:
        try:
            self._append(erasure)
        except OSError as exc:  # the deletion must not commit unjournalled: 503, retry once the disk is back
            raise Unavailable(f"the erasure journal in {self.folder} cannot be written ({exc.strerror or exc}): "
                              "nothing was deleted", code="erasure_journal_unavailable") from None

    def _append(self, erasure: Erasure) -> None:
        self.folder.mkdir(mode=0o700, parents=True, exist_ok=True)
        created = not self.path.exists()
        fd = os.open(self.path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
        try:
            # The lock keeps two processes' lines from interleaving; O_APPEND alone does not promise that on
            # every filesystem (NFS).
            fcntl.flock(fd, fcntl.LOCK_EX)
            _heal_torn_tail(fd, self.path)
            os.write(fd, erasure.line())
            os.fsync(fd)
        finally:
            os.close(fd)
        if created:  # the new name must survive a crash too, not only its bytes
            dir_fd = os.open(self.folder, os.O_RDONLY)
            try:
                os.fsync(dir_fd)
            finally:
                os.close(dir_fd)

    def entries(self) -> tuple[list[Erasure], int]:
        try:
            text = self.path.read_text(encoding="utf-8", errors="replace")
        except FileNotFoundError:
            return [], 0
        return parse_journal(text)


def _heal_torn_tail(fd: int, path: Path) -> None:
    """A crash in the middle of a write leaves a line without its newline: end it, so the next entry starts on a
    line of its own (the torn line is then counted as unreadable, the new one reads)."""
    size = os.fstat(fd).st_size
    if size == 0:
        return
    with open(path, "rb") as f:
        f.seek(size - 1)
        if f.read(1) != b"\n":
            os.write(fd, b"\n")
