"""What a file is, decided by its first bytes (an extension can lie), and the one error for unreadable media."""

from __future__ import annotations

from enum import StrEnum
from pathlib import Path

MAX_PIXELS = 50_000_000  # the limit: anything larger is refused before it is decoded


class UnreadableMedia(Exception):
    """A source that cannot be read; the message says why, for the one stderr line naming it."""


class MediaKind(StrEnum):
    JPEG = "jpeg"
    PNG = "png"
    WEBP = "webp"
    MP4 = "mp4"
    MKV = "mkv"

    @property
    def is_image(self) -> bool:
        return self in (MediaKind.JPEG, MediaKind.PNG, MediaKind.WEBP)


def sniff(head: bytes) -> MediaKind | None:
    """The kind of the file starting with `head` (its first 16 bytes or more), or None when unsupported."""
    if head.startswith(b"\xff\xd8\xff"):
        return MediaKind.JPEG
    if head.startswith(b"\x89PNG\r\n\x1a\n"):
        return MediaKind.PNG
    if head[:4] == b"RIFF" and head[8:12] == b"WEBP":
        return MediaKind.WEBP
    if head[4:8] == b"ftyp":  # ISO base media: mp4, m4v, mov
        return MediaKind.MP4
    if head.startswith(b"\x1a\x45\xdf\xa3"):  # EBML: Matroska and WebM
        return MediaKind.MKV
    return None


def kind_of_file(path: Path) -> MediaKind:
    """The file's kind, or UnreadableMedia saying why not (missing, empty, not a file, unsupported)."""
    try:
        if not path.is_file():
            raise UnreadableMedia("no such file" if not path.exists() else "not a regular file")
        with path.open("rb") as f:
            head = f.read(32)
    except PermissionError:
        raise UnreadableMedia("permission denied") from None
    except OSError as e:
        raise UnreadableMedia(f"cannot open: {e.strerror or e}") from None
    if not head:
        raise UnreadableMedia("empty file (zero bytes)")
    kind = sniff(head)
    if kind is None:
        raise UnreadableMedia("unsupported type (not jpg, png, webp, mp4 or mkv by its content)")
    return kind
