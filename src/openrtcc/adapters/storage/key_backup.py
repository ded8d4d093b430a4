"""The hub's keys copied to a folder of their own, apart from the data backup (a stolen backup must not carry
the keys that open it), and copied back before a restore: agency media keys, the signing key, the hub secret."""

from __future__ import annotations

import filecmp
import os
import shutil
from pathlib import Path

from openrtcc.domain.errors import Conflict


def _private_copy(src: Path, dst: Path) -> None:
    dst.parent.mkdir(mode=0o700, parents=True, exist_ok=True)
    shutil.copyfile(src, dst)
    os.chmod(dst, 0o600)
    with open(dst, "rb") as f:
        os.fsync(f.fileno())


def _files(root: Path) -> list[Path]:
    if root.is_file():
        return [root]
    return sorted(p for p in root.rglob("*") if p.is_file() and not p.name.endswith(".tmp"))


def save_keys(keys: dict[str, Path], dest: Path) -> list[str]:
    """Each named key file or folder into dest/<name>; returns what was saved (absent keys are skipped: a hub
    that never sealed a file has no media keys)."""
    dest.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(dest, 0o700)
    saved = []
    for name, src in keys.items():
        if not src.exists():
            continue
        for f in _files(src):
            rel = f.relative_to(src) if src.is_dir() else Path()
            _private_copy(f, dest / name / rel if src.is_dir() else dest / name)
        saved.append(name)
    return saved


def restore_keys(src: Path, keys: dict[str, Path]) -> list[str]:
    """Puts saved keys in place; a key already there must be the same file (a restore never replaces a key that
    may seal data the backup does not know)."""
    planned: list[tuple[Path, Path]] = []
    for name, target in keys.items():
        saved = src / name
        if not saved.exists():
            continue
        for f in _files(saved):
            dst = target / f.relative_to(saved) if saved.is_dir() else target
            if dst.exists() and not filecmp.cmp(f, dst, shallow=False):
                raise Conflict(f"{dst} exists and differs from the saved key {f}: refused (move it away first "
                               "if it is truly not needed)", code="key_differs")
            planned.append((f, dst))
    for f, dst in planned:
        if not dst.exists():
            _private_copy(f, dst)
    return sorted({str(dst) for _f, dst in planned})
