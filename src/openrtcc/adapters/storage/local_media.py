"""Media on the local filesystem, written atomically: a file is complete or absent."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Callable, Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from openrtcc.domain.errors import InvalidInput

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
CHUNK = 1024 * 1024


class TooLarge(InvalidInput):
    code = "too_large"


def checked_key(key: str) -> str:
    """A media key every store accepts: relative, no `..` segment, a bounded set of characters (raises ValueError)."""
    if not _KEY_RE.match(key) or ".." in key.split("/"):
        raise ValueError(f"bad media key {key!r}")
    return key


def checked_prefix(prefix: str) -> str:
    """A listing prefix (`reads/`, `evidence/agency-a/`, `` for all) as a folder path without slashes at its ends."""
    if ".." in prefix.split("/"):
        raise ValueError(f"bad media prefix {prefix!r}")
    return prefix.strip("/")


class LocalMediaStore:
    def __init__(self, root: Path):
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        return self.root / checked_key(key)

    def put(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        path = self._path(key)
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".part")
        digest = hashlib.sha256()
        size = 0
        try:
            with open(tmp, "wb") as out:
                while chunk := stream.read(CHUNK):
                    size += len(chunk)
                    if size > max_bytes:
                        raise TooLarge(f"the file is larger than the {max_bytes // (1024 * 1024)} MiB limit")
                    digest.update(chunk)
                    out.write(chunk)
                out.flush()
                os.fsync(out.fileno())
            os.replace(tmp, path)
        finally:
            tmp.unlink(missing_ok=True)
        return size, digest.hexdigest()

    def open(self, key: str) -> BinaryIO:
        return open(self._path(key), "rb")

    def delete(self, key: str) -> None:
        self._path(key).unlink(missing_ok=True)

    def exists(self, key: str) -> bool:
        return self._path(key).exists()

    def iter_keys(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """Every complete file under `prefix` with its mtime; `.part` files (writes in progress) are skipped."""
        folder = checked_prefix(prefix)
        base = self.root / folder if folder else self.root
        if not base.is_dir():
            return
        for dirpath, _dirs, files in os.walk(base):
            for name in sorted(files):
                if name.endswith(".part"):
                    continue
                path = Path(dirpath) / name
                try:
                    mtime = path.stat().st_mtime
                except FileNotFoundError:  # deleted between the listing and the stat
                    continue
                yield path.relative_to(self.root).as_posix(), datetime.fromtimestamp(mtime, UTC)

    # --- operations and upkeep (readiness, `rtcc keys`) ---

    def probe(self) -> str:
        """Readiness of the media store: `ok`, or a short reason. services/health.py reports it as the `media`
        check."""
        if not self.root.is_dir():
            return "folder_missing"
        return "ok" if os.access(self.root, os.W_OK | os.X_OK) else "not_writable"

    def top_folders(self) -> list[str]:
        """The first level of keys (`evidence`, `reads`, `tips`, ...)."""
        return sorted(p.name for p in self.root.iterdir() if p.is_dir()) if self.root.is_dir() else []

    def writes_in_progress(self, prefix: str) -> int:
        """Files being written under `prefix` (their `.part` files, renamed when complete)."""
        folder = checked_prefix(prefix)
        base = self.root / folder if folder else self.root
        return sum(1 for _ in base.rglob("*.part")) if base.is_dir() else 0

    def rewrite_head(self, key: str, new_head: Callable[[BinaryIO], bytes | None]) -> bool:
        """Replaces the first bytes of a file in place: `new_head` reads the file (a handle of its own, which it may
        close) and returns the new head, or None to leave it. The write goes to the file that was read, so a file
        deleted meanwhile is not brought back. False when left as it was."""
        with open(self._path(key), "r+b") as target:
            head = new_head(os.fdopen(os.dup(target.fileno()), "rb"))
            if head is None:
                return False
            os.pwrite(target.fileno(), head, 0)  # for a sealed header: one 512-byte sector at offset 0
            os.fsync(target.fileno())
        return True
