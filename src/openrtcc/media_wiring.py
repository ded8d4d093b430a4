"""Chooses the hub's media store: files (media_dir) or an S3-compatible bucket (RTCC_MEDIA_STORE), sealed (AES-256-GCM
envelope encryption under agency keys) when settings.media_encryption."""

from __future__ import annotations

from openrtcc.adapters.storage.local_media import LocalMediaStore
from openrtcc.adapters.storage.media_keys import MediaKeyRing
from openrtcc.adapters.storage.sealed_media import SealedMediaStore
from openrtcc.config import Settings
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.ports import MediaStore


def media_key_ring(settings: Settings) -> MediaKeyRing:
    """Keys in settings.media_key_dir (held by the agency: refused when absent, never made up), or in the embedded
    default data_dir/media-keys, where an agency's first key is made on its first file."""
    if settings.media_key_dir is not None:
        return MediaKeyRing(settings.media_key_dir, create_on_first_use=False)
    return MediaKeyRing(settings.data_dir / "media-keys", create_on_first_use=True)


def plain_media_store(settings: Settings, *, sealed: bool | None = None):
    """The store underneath any sealing: the media folder, or the bucket (checked at once: a missing bucket or
    refused credentials stop the start with the bucket's name). `sealed` says whether uploads must be listed
    while in progress (key rotation waits for them)."""
    if settings.media_store == "file":
        return LocalMediaStore(settings.media_dir)
    _check_s3_settings(settings)
    from openrtcc.adapters.storage.s3_media import S3MediaStore, s3_client

    connection = (settings.s3_endpoint_url, settings.s3_region, settings.s3_access_key_id,
                  settings.s3_secret_access_key)
    store = S3MediaStore(s3_client(*connection), settings.s3_bucket, settings.s3_prefix,
                         probe_client=s3_client(*connection, probe=True),
                         announce_uploads=settings.media_encryption if sealed is None else sealed)
    store.check_bucket()
    return store


def _check_s3_settings(settings: Settings) -> None:
    if not settings.s3_bucket:
        raise InvalidInput("RTCC_MEDIA_STORE=s3 needs RTCC_S3_BUCKET (and RTCC_S3_ENDPOINT_URL for a store other "
                           "than AWS S3)", code="media_store_misconfigured")


def sealed_media_store(settings: Settings) -> SealedMediaStore:
    """The sealed store over the configured files or bucket, whether or not the hub serves through it (`rtcc keys`
    makes or rotates a key before encryption is turned on)."""
    if settings.media_store == "s3":
        _check_s3_settings(settings)
    if settings.media_store == "s3" and settings.media_key_dir is None:
        # a bucket is shared by hub machines: keys made on first use under each machine's own data_dir would differ,
        # and one machine could not open what another sealed
        raise InvalidInput("RTCC_MEDIA_STORE=s3 with encryption at rest needs RTCC_MEDIA_KEY_DIR: the agencies' "
                           "key files, the same on every hub machine (a mounted secret or shared folder; `rtcc keys "
                           "create --agency ...` makes each agency's first key)", code="media_keys_not_shared")
    return SealedMediaStore(plain_media_store(settings, sealed=True), media_key_ring(settings))


def build_media_store(settings: Settings) -> MediaStore:
    if not settings.media_encryption:
        return plain_media_store(settings)
    return sealed_media_store(settings)
