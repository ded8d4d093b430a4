"""BagIt packages on disk: written as a zip (one top folder) or a folder, whole or not at all; read back for
checking without extracting anything."""

from __future__ import annotations

import hashlib
import os
import re
import shutil
import zipfile
from collections import Counter
from pathlib import Path
from typing import BinaryIO

from openrtcc.domain.bagit import CHUNK, BagProblem

_STORED = (".mp4", ".mkv", ".mov", ".webm", ".jpg", ".jpeg", ".png")  # compressed already: deflate wastes CPU
_UNSAFE = re.compile(r"[^A-Za-z0-9._-]+")


def bag_name(case_number: str, day: str) -> str:
    """The bag's top folder: `evidence-<case>-<YYYYMMDD>`, the case made safe as a file name."""
    return f"evidence-{_UNSAFE.sub('_', case_number).strip('._') or 'case'}-{day.replace('-', '')}"


def _copy(stream: BinaryIO, out: BinaryIO) -> tuple[int, str]:
    digest, size = hashlib.sha256(), 0
    while chunk := stream.read(CHUNK):
        digest.update(chunk)
        out.write(chunk)
        size += len(chunk)
    return size, digest.hexdigest()


class _BytesReader:
    def __init__(self, data: bytes):
        self.data, self.pos = data, 0

    def read(self, n: int = -1) -> bytes:
        end = len(self.data) if n < 0 else self.pos + n
        chunk, self.pos = self.data[self.pos:end], min(end, len(self.data))
        return chunk


class ZipBagWriter:
    """A bag as a zip whose entries sit under one top folder, as BagIt zips are usually shared."""

    def __init__(self, target: BinaryIO, root: str):
        self.root = root
        self._zip = zipfile.ZipFile(target, "w", compression=zipfile.ZIP_DEFLATED, compresslevel=6)

    def add(self, path: str, stream: BinaryIO) -> tuple[int, str]:
        info = zipfile.ZipInfo(f"{self.root}/{path}", date_time=(2000, 1, 1, 0, 0, 0))
        info.compress_type = zipfile.ZIP_STORED if path.lower().endswith(_STORED) else zipfile.ZIP_DEFLATED
        info.external_attr = 0o644 << 16
        with self._zip.open(info, "w", force_zip64=True) as out:
            return _copy(stream, out)

    def add_bytes(self, path: str, data: bytes) -> tuple[int, str]:
        return self.add(path, _BytesReader(data))

    def close(self) -> None:
        self._zip.close()

    def __enter__(self) -> ZipBagWriter:
        return self

    def __exit__(self, *exc) -> None:
        # Closed either way while the target is still open (a failed package is the caller's to throw away),
        # so the zip never tries to finish itself into a closed file later.
        self._zip.close()


class DirectoryBagWriter:
    """A bag as a folder, made beside its final name and renamed into place only when complete."""

    def __init__(self, target: Path):
        if target.exists():
            raise FileExistsError(f"{target} already exists; nothing was written")
        self.target = target
        self.work = target.with_name(f".{target.name}.part")
        shutil.rmtree(self.work, ignore_errors=True)
        self.work.mkdir(parents=True)

    def add(self, path: str, stream: BinaryIO) -> tuple[int, str]:
        dest = self.work / path
        dest.parent.mkdir(parents=True, exist_ok=True)
        with open(dest, "xb") as out:
            return _copy(stream, out)

    def add_bytes(self, path: str, data: bytes) -> tuple[int, str]:
        return self.add(path, _BytesReader(data))

    def finish(self) -> None:
        os.rename(self.work, self.target)

    def discard(self) -> None:
        shutil.rmtree(self.work, ignore_errors=True)


class ZipBagReader:
    def __init__(self, path: Path):
        try:
            self._zip = zipfile.ZipFile(path)
        except zipfile.BadZipFile:
            raise BagProblem(f"{path.name} is not a zip file", path.name) from None
        files = [i.filename for i in self._zip.infolist() if not i.is_dir()]
        prefix = ""
        if "bagit.txt" not in files:  # the usual way: one top folder holding the bag
            tops = {n.split("/", 1)[0] for n in files if "/" in n}
            prefix = f"{tops.pop()}/" if len(tops) == 1 else ""
        self._outside = sorted(n for n in files if not n.startswith(prefix))
        twice = sorted(n for n, times in Counter(files).items() if times > 1)
        if twice:  # a second entry of the same name would shadow the first when read
            raise BagProblem(f"{twice[0]} appears twice in the zip", twice[0])
        self._names = {n[len(prefix):]: n for n in files if n.startswith(prefix)}

    def names(self) -> list[str]:
        if self._outside:
            raise BagProblem(f"{self._outside[0]} was added: it lies outside the bag's folder", self._outside[0])
        return list(self._names)

    def open(self, path: str) -> BinaryIO:
        return self._zip.open(self._names[path])

    def close(self) -> None:
        self._zip.close()


class DirectoryBagReader:
    def __init__(self, root: Path):
        self.root = root

    def names(self) -> list[str]:
        out = []
        for folder, dirs, files in os.walk(self.root):
            for name in [*files, *dirs]:
                full = Path(folder) / name
                rel = full.relative_to(self.root).as_posix()
                if full.is_symlink():
                    raise BagProblem(f"{rel} is a symbolic link: a package holds only plain files", rel)
                if name in files and not full.is_file():
                    raise BagProblem(f"{rel} is not a plain file", rel)
                if name in files:
                    out.append(rel)
        return out

    def open(self, path: str) -> BinaryIO:
        return open(self.root / path, "rb")

    def close(self) -> None:
        pass


def open_bag(path: Path) -> ZipBagReader | DirectoryBagReader:
    """A package to check: a folder, or a zip file."""
    if path.is_dir():
        return DirectoryBagReader(path)
    if not path.is_file():
        raise BagProblem(f"{path} does not exist", str(path))
    return ZipBagReader(path)
