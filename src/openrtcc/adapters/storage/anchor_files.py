"""Audit anchors written to a folder (anchor_dir/YYYY-MM-DD.json) for publication: whole files or none."""

from __future__ import annotations

import os
from pathlib import Path

from openrtcc.domain.anchors import valid_day


class AnchorFiles:
    def __init__(self, folder: Path):
        self.folder = folder

    def path(self, day: str) -> Path:
        return self.folder / f"{valid_day(day)}.json"

    def has(self, day: str) -> bool:
        return self.path(day).is_file()

    def publish(self, day: str, document: bytes) -> str:
        target = self.path(day)
        self.folder.mkdir(parents=True, exist_ok=True)
        tmp = target.with_name(f".{target.name}.{os.getpid()}.tmp")
        try:
            with open(tmp, "wb") as f:
                f.write(document)
                f.flush()
                os.fsync(f.fileno())
            os.chmod(tmp, 0o644)  # published: anyone may read it
            os.replace(tmp, target)
        finally:
            tmp.unlink(missing_ok=True)
        return str(target)
