"""Each agency's media keys (the key-encryption keys of encryption at rest): versioned files the agency holds."""

from __future__ import annotations

import base64
import hashlib
import json
import os
import re
import secrets
import stat
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path

from openrtcc.domain.errors import InvalidInput, Unavailable

KEY_FORMAT = "rtcc-media-key/1"
_AGENCY_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")
_FILE_RE = re.compile(r"^v(\d{4,9})\.key$")


@dataclass(frozen=True, slots=True)
class AgencyKey:
    agency_id: str
    version: int
    key: bytes = b""
    key_id: str = ""
    created_at: datetime | None = None

    def __repr__(self) -> str:  # never the key bytes, in a log or a traceback
        return f"AgencyKey({self.agency_id!r}, v{self.version}, id={self.key_id})"


def key_id_of(key: bytes) -> str:
    """A public fingerprint of a key: says which key sealed a blob without saying anything about the key."""
    return hashlib.sha256(b"rtcc-media-key-id\0" + key).hexdigest()[:16]


class MediaKeyRing:
    """Keys live in `<root>/<agency>/vNNNN.key` (folders 0700, files 0600). The newest version seals new blobs;
    older versions open blobs not yet rewrapped and are deleted once a rotation has rewrapped every blob."""

    def __init__(self, root: Path, *, create_on_first_use: bool, now: Callable[[], datetime] | None = None):
        self.root = root
        self.create_on_first_use = create_on_first_use
        self._now = now or (lambda: datetime.now(UTC))
        self._cache: dict[tuple[str, int], tuple[tuple[int, int], AgencyKey]] = {}

    def _agency_dir(self, agency_id: str) -> Path:
        if not _AGENCY_RE.match(agency_id):
            raise InvalidInput(f"not an agency id: {agency_id!r}", code="bad_agency")
        return self.root / agency_id

    def _file(self, agency_id: str, version: int) -> Path:
        return self._agency_dir(agency_id) / f"v{version:04d}.key"

    def agencies(self) -> list[str]:
        if not self.root.is_dir():
            return []
        return sorted(p.name for p in self.root.iterdir() if p.is_dir() and _AGENCY_RE.match(p.name))

    def version_numbers(self, agency_id: str) -> list[int]:
        folder = self._agency_dir(agency_id)
        if not folder.is_dir():
            return []
        return sorted(int(m.group(1)) for m in map(_FILE_RE.match, os.listdir(folder)) if m)

    def versions(self, agency_id: str) -> list[AgencyKey]:
        return [self.get(agency_id, v) for v in self.version_numbers(agency_id)]

    def current(self, agency_id: str) -> AgencyKey:
        """The key new blobs are sealed with; looked up on every call, so a rotation made by `rtcc keys` in
        another process is followed at once."""
        numbers = self.version_numbers(agency_id)
        if numbers:
            return self.get(agency_id, numbers[-1])
        if not self.create_on_first_use:
            raise Unavailable(
                f"agency {agency_id} has no media key in {self.root}: create it with `rtcc keys create --agency ...` "
                "(or restore the agency's key files)", code="media_key_missing")
        return self.create(agency_id, only_if_none=True)

    def get(self, agency_id: str, version: int) -> AgencyKey:
        path = self._file(agency_id, version)
        try:
            st = path.stat()
        except FileNotFoundError:
            raise Unavailable(
                f"media key version {version} of agency {agency_id} is not in {self.root}: the files it sealed cannot "
                "be opened until the agency's key file is restored", code="media_key_missing") from None
        if st.st_mode & 0o077:
            raise Unavailable(f"{path} can be read by others (mode {stat.filemode(st.st_mode)}): refused; "
                              f"`chmod 600 {path}` once you know who read it", code="media_key_insecure")
        stamp = (st.st_mtime_ns, st.st_ino)
        cached = self._cache.get((agency_id, version))
        if cached and cached[0] == stamp:
            return cached[1]
        loaded = _load(path, agency_id, version)
        self._cache[(agency_id, version)] = (stamp, loaded)
        return loaded

    def create(self, agency_id: str, *, only_if_none: bool = False) -> AgencyKey:
        """A new version (one more than the newest), written exclusively: two processes never share a number."""
        folder = self._agency_dir(agency_id)
        _private_dir(self.root)
        _private_dir(folder)
        while True:
            numbers = self.version_numbers(agency_id)
            if only_if_none and numbers:
                return self.get(agency_id, numbers[-1])
            version = (numbers[-1] if numbers else 0) + 1
            raw = secrets.token_bytes(32)
            key = AgencyKey(agency_id, version, raw, key_id_of(raw), self._now())
            try:
                _write_exclusive(self._file(agency_id, version), _dump(key))
            except FileExistsError:
                continue  # another process took this number a moment ago: take the next one
            return key

    def retire(self, agency_id: str, version: int) -> None:
        """Deletes an old version's file: the blobs it sealed must all have been rewrapped first."""
        if version == self.version_numbers(agency_id)[-1]:
            raise InvalidInput("the newest key version seals new files and cannot be retired", code="key_in_use")
        self._file(agency_id, version).unlink(missing_ok=True)
        self._cache.pop((agency_id, version), None)


def _private_dir(path: Path) -> None:
    path.mkdir(mode=0o700, parents=True, exist_ok=True)
    os.chmod(path, 0o700)  # mkdir's mode is masked by the umask, and the folder may predate us


def _write_exclusive(path: Path, data: bytes) -> None:
    """Writes the whole file under a private name, then links it in: the name appears complete or not at all, and
    FileExistsError says another process took it first (a reader never sees a half-written key)."""
    tmp = path.with_name(f".{path.name}.{secrets.token_hex(6)}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        try:
            os.fchmod(fd, 0o600)
            os.write(fd, data)
            os.fsync(fd)
        finally:
            os.close(fd)
        os.link(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the name survives a crash too, not only the bytes
    finally:
        os.close(dir_fd)


def _dump(key: AgencyKey) -> bytes:
    return (json.dumps({"format": KEY_FORMAT, "agency": key.agency_id, "version": key.version, "key_id": key.key_id,
                        "created_at": key.created_at.isoformat() if key.created_at else None,
                        "key": base64.b64encode(key.key).decode()}, indent=1) + "\n").encode()


def _load(path: Path, agency_id: str, version: int) -> AgencyKey:
    try:
        doc = json.loads(path.read_bytes())
        key = base64.b64decode(doc["key"], validate=True)
        created = datetime.fromisoformat(doc["created_at"]) if doc.get("created_at") else None
    except (ValueError, KeyError, TypeError) as exc:
        raise Unavailable(f"{path} is not a media key file ({exc})", code="media_key_unreadable") from None
    if doc.get("format") != KEY_FORMAT or len(key) != 32 or doc.get("key_id") != key_id_of(key):
        raise Unavailable(f"{path} is not an intact media key file", code="media_key_unreadable")
    if doc.get("agency") != agency_id or doc.get("version") != version:
        # a file copied from another agency or renamed would open nothing and hide the real key's absence
        raise Unavailable(f"{path} holds the key of agency {doc.get('agency')} version {doc.get('version')}, "
                          "not the one its name says", code="media_key_unreadable")
    return AgencyKey(agency_id, version, key, doc["key_id"], created)
