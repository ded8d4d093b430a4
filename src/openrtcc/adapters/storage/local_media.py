"""Media on the local filesystem, written atomically: a file is complete or absent."""

from __future__ import annotations

import hashlib
import os
import re
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path
from typing import BinaryIO

from openrtcc.domain.errors import InvalidInput

_KEY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._/-]{0,199}$")
CHUNK = 1024 * 1024


class TooLarge(InvalidInput):
    code = "too_large"


class LocalMediaStore:
    def __init__(self, root: Path):
        self.root = root.resolve()
        self.root.mkdir(parents=True, exist_ok=True)

    def _path(self, key: str) -> Path:
        if not _KEY_RE.match(key) or ".." in key.split("/"):
            raise ValueError(f"bad media key {key!r}")
        return self.root / key

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
        if ".." in prefix.split("/"):
            raise ValueError(f"bad media prefix {prefix!r}")
        base = self.root / prefix.strip("/") if prefix.strip("/") else self.root
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
