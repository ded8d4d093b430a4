"""The box's identity on the hub: its edge id and key, in `<data_dir>/credentials.json`, readable by the
box's user only (mode 0600) and replaced atomically, so a crash never leaves half a key."""

from __future__ import annotations

import json
import os
import stat
from dataclasses import dataclass, field
from pathlib import Path

from openrtcc.domain.errors import InvalidInput
from openrtcc.edge.config import EdgeConfig

FILE_NAME = "credentials.json"


@dataclass(frozen=True, slots=True)
class Credentials:
    edge_id: str
    key: str = field(repr=False)  # never printed or logged
    hub_url: str


def credentials_path(config: EdgeConfig) -> Path:
    return Path(config.edge.data_dir) / FILE_NAME


def save_credentials(config: EdgeConfig, creds: Credentials) -> Path:
    path = credentials_path(config)
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = path.with_name(f".{FILE_NAME}.{os.getpid()}.tmp")
    body = json.dumps({"edge_id": creds.edge_id, "key": creds.key, "hub_url": creds.hub_url}).encode()
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    try:
        os.fchmod(fd, 0o600)  # the umask cannot widen it, and a stale temp file gets the right mode too
        os.write(fd, body)
        os.fsync(fd)
    finally:
        os.close(fd)
    os.replace(tmp, path)
    dir_fd = os.open(path.parent, os.O_RDONLY)
    try:
        os.fsync(dir_fd)  # the rename itself survives a power cut
    finally:
        os.close(dir_fd)
    return path


def load_credentials(config: EdgeConfig) -> Credentials:
    """The saved credentials; InvalidInput (code key_missing) says how to enrol when there are none."""
    path = credentials_path(config)
    try:
        mode = path.stat().st_mode
        doc = json.loads(path.read_text(encoding="utf-8"))
        creds = Credentials(str(doc["edge_id"]), str(doc["key"]), str(doc["hub_url"]))
    except FileNotFoundError:
        raise InvalidInput(f"this box is not enrolled ({path} is missing): run `rtcc edge enrol --code CODE` "
                           "with a code from the owner portal", code="key_missing") from None
    except (OSError, ValueError, KeyError, TypeError) as exc:
        raise InvalidInput(f"{path} is unreadable ({type(exc).__name__}): enrol the box again",
                           code="key_missing") from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        raise InvalidInput(f"{path} is readable by other users: run `chmod 600 {path}` (and consider the key "
                           "leaked: revoke the box in the portal and enrol it again)", code="key_exposed")
    if creds.hub_url.rstrip("/") != config.edge.hub_url.rstrip("/"):
        raise InvalidInput(f"{path} was issued by {creds.hub_url}, but edge.toml names {config.edge.hub_url}: "
                           "enrol the box with this hub", code="key_missing")
    return creds
