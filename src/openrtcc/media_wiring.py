"""Chooses the hub's media store: sealed (AES-256-GCM envelope encryption under agency keys) or plain files."""

from __future__ import annotations

from openrtcc.adapters.storage.local_media import LocalMediaStore
from openrtcc.adapters.storage.media_keys import MediaKeyRing
from openrtcc.adapters.storage.sealed_media import SealedMediaStore
from openrtcc.config import Settings
from openrtcc.domain.ports import MediaStore


def media_key_ring(settings: Settings) -> MediaKeyRing:
    """Keys in settings.media_key_dir (held by the agency: refused when absent, never made up), or in the embedded
    default data_dir/media-keys, where an agency's first key is made on its first file."""
    if settings.media_key_dir is not None:
        return MediaKeyRing(settings.media_key_dir, create_on_first_use=False)
    return MediaKeyRing(settings.data_dir / "media-keys", create_on_first_use=True)


def build_media_store(settings: Settings) -> MediaStore:
    files = LocalMediaStore(settings.media_dir)
    if not settings.media_encryption:
        return files
    return SealedMediaStore(files, media_key_ring(settings))
