"""Per-day data keys wrapped by the box's master key: destroying a day's wrapped key crypto-shreds that day.

Layout under `<data_dir>/keys/`: `master.key` (32 random bytes, mode 0600, created once) and one
`YYYY-MM-DD.key` per UTC day (12-byte nonce + AES-256-GCM of the day's 32-byte key, the day as AAD).
Unwrapped day keys live only in memory.
"""

from __future__ import annotations

import logging
import os
import re
import threading
from datetime import date
from pathlib import Path

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

log = logging.getLogger(__name__)

KEY_BYTES = 32
_DAY_FILE = re.compile(r"^(\d{4}-\d{2}-\d{2})\.key$")


class DayKeyError(Exception):
    """The keys of the box cannot be used (see the message)."""


class DayKeyDestroyed(DayKeyError):
    """The day's key is gone (crypto-shredded, or lost): that day's footage can never be read again."""

    def __init__(self, day: date):
        super().__init__(f"the key for {day.isoformat()} has been destroyed: footage of that day cannot be read")
        self.day = day


def _aad(day: date) -> bytes:
    return b"rtcc-day-key:" + day.isoformat().encode()


def _fsync_dir(path: Path) -> None:
    fd = os.open(path, os.O_RDONLY | os.O_DIRECTORY)
    try:
        os.fsync(fd)
    finally:
        os.close(fd)


def _write_new_file(path: Path, data: bytes) -> None:
    """Write a 0600 file atomically (temp + fsync + rename + fsync of the directory)."""
    tmp = path.with_name(path.name + ".tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.write(fd, data)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    _fsync_dir(path.parent)


class DayKeys:
    def __init__(self, data_dir: Path):
        self.dir = Path(data_dir) / "keys"
        self.dir.mkdir(parents=True, exist_ok=True, mode=0o700)
        self._lock = threading.Lock()
        self._cache: dict[date, bytes] = {}
        self._master = AESGCM(self._load_master())

    def _load_master(self) -> bytes:
        path = self.dir / "master.key"
        try:
            key = path.read_bytes()
        except FileNotFoundError:
            if self.days():
                raise DayKeyError(f"{path} is missing while day keys exist: the stored footage cannot be "
                                  "read (restore the master key from the box's backup)") from None
            key = os.urandom(KEY_BYTES)
            _write_new_file(path, key)
            log.info("created the box's master key")
            return key
        if len(key) != KEY_BYTES:
            raise DayKeyError(f"{path} is not a {KEY_BYTES}-byte key")
        return key

    def _path(self, day: date) -> Path:
        return self.dir / f"{day.isoformat()}.key"

    def key_for(self, day: date, create: bool = False) -> bytes:
        """The day's data key; with create, made (and stored wrapped) if the day has none yet."""
        with self._lock:
            key = self._cache.get(day)
            if key is not None:
                return key
            path = self._path(day)
            try:
                wrapped = path.read_bytes()
            except FileNotFoundError:
                if not create:
                    raise DayKeyDestroyed(day) from None
                key = os.urandom(KEY_BYTES)
                nonce = os.urandom(12)
                _write_new_file(path, nonce + self._master.encrypt(nonce, key, _aad(day)))
            else:
                try:
                    key = self._master.decrypt(wrapped[:12], wrapped[12:], _aad(day))
                except (InvalidTag, ValueError):
                    raise DayKeyError(f"the key file for {day.isoformat()} does not open with this box's "
                                      "master key (damaged or from another box)") from None
            self._cache[day] = key
            return key

    def destroy(self, day: date) -> bool:
        """Crypto-shred the day: overwrite the wrapped key, unlink it, fsync the directory. True if it
        existed. The day's footage is unreadable from then on, wherever copies of its files went."""
        with self._lock:
            self._cache.pop(day, None)
            path = self._path(day)
            try:
                fd = os.open(path, os.O_WRONLY)
            except FileNotFoundError:
                return False
            try:
                os.write(fd, os.urandom(max(os.fstat(fd).st_size, 1)))
                os.fsync(fd)
            finally:
                os.close(fd)
            path.unlink()
            _fsync_dir(self.dir)
        log.info("crypto-shredded day %s", day.isoformat())
        return True

    def days(self) -> list[date]:
        """Days that still have a key, oldest first."""
        found = []
        for p in self.dir.iterdir():
            m = _DAY_FILE.match(p.name)
            if m:
                found.append(date.fromisoformat(m.group(1)))
        return sorted(found)
