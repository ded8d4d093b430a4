"""`rtcc alpr read` on images: the JSON-lines contract, and every kind of unreadable file named on stderr."""

from __future__ import annotations

import struct
import zlib
from pathlib import Path

import cv2
import pytest

from tests.alpr_cli import VIDEO, assert_contract, require_alpr_files, run_read, us_photo


@pytest.fixture(scope="module", autouse=True)
def _files():
    require_alpr_files()


def reencoded(tmp_path: Path) -> tuple[dict[str, Path], str]:
    """The labelled photo as jpg, png and webp, made now (data never enters the repository)."""
    photo, plate = us_photo()
    image = cv2.imread(str(photo))
    paths = {}
    for ext in ("jpg", "png", "webp"):
        paths[ext] = tmp_path / f"car.{ext}"
        assert cv2.imwrite(str(paths[ext]), image, [cv2.IMWRITE_WEBP_QUALITY, 95] if ext == "webp" else [])
    return paths, plate


def png_bomb(path: Path, width: int = 10_000, height: int = 6_000) -> Path:
    """A genuine 60-megapixel grey PNG of a few tens of kilobytes: decoding it would take 60 MB or more."""
    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    z = zlib.compressobj(9)
    row = b"\x00" * (width + 1)  # filter byte + a black row
    body = b"".join(z.compress(row) for _ in range(height)) + z.flush()
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 0, 0, 0, 0)
    path.write_bytes(b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", ihdr) + chunk(b"IDAT", body) + chunk(b"IEND", b""))
    return path


def test_images_in_each_format_give_one_line_each_with_the_plate(tmp_path):
    paths, plate = reencoded(tmp_path)
    # The type comes from the content: a PNG named .jpg is still read as the PNG it is.
    disguised = tmp_path / "really-a-png.jpg"
    disguised.write_bytes(paths["png"].read_bytes())
    targets = [str(p) for p in paths.values()] + [str(disguised)]
    done = run_read(*targets)
    assert done.returncode == 0, done.stderr
    assert [line["source"] for line in done.lines] == targets
    for line in done.lines:
        assert_contract(line)
        assert line["frame"] is None
        assert line["plates"][0]["text"] == plate
        assert line["plates"][0]["candidates"][0]["text"] == plate


def test_unreadable_files_get_one_stderr_line_each_and_the_good_one_is_still_read(tmp_path):
    paths, plate = reencoded(tmp_path)
    bad = {
        "corrupt.jpg": b"\xff\xd8\xff\xe0" + bytes(range(256)) * 40,
        "empty.png": b"",
        "notes.jpg": b"plain text, not an image\n",
        "anim.gif": b"GIF89a" + b"\x00" * 64,
        "broken.mp4": b"\x00\x00\x00\x18ftypisom" + b"\x13" * 4000,
        "truncated.png": paths["png"].read_bytes()[:5000],
    }
    for name, data in bad.items():
        (tmp_path / name).write_bytes(data)
    png_bomb(tmp_path / "bomb.png")
    targets = {str(tmp_path / n): why for n, why in [
        ("corrupt.jpg", "corrupt jpeg"), ("empty.png", "empty file"), ("notes.jpg", "unsupported type"),
        ("anim.gif", "unsupported type"), ("broken.mp4", "video"), ("truncated.png", "corrupt png"),
        ("bomb.png", "over 50 megapixels"), ("missing.webp", "no such file")]}
    targets |= {"http://127.0.0.1:1/cam": "unsupported URL scheme", "rtsp://": "without a host"}
    good = str(paths["webp"])
    done = run_read(*targets, good, timeout=120)
    assert done.returncode == 0, done.stderr
    assert [line["source"] for line in done.lines] == [good]
    assert done.lines[0]["plates"][0]["text"] == plate
    for target, why in targets.items():
        named = done.stderr_lines_naming(target)
        assert len(named) == 1, (target, done.stderr)
        assert why in named[0], named[0]


def test_nothing_readable_is_a_failure_with_nothing_on_stdout(tmp_path):
    (tmp_path / "zero.jpg").write_bytes(b"")
    done = run_read(str(tmp_path / "zero.jpg"), str(tmp_path / "gone.png"), timeout=60)
    assert done.returncode == 1
    assert done.stdout == ""
    assert len(done.stderr_lines_naming(str(tmp_path / "zero.jpg"))) == 1
    assert len(done.stderr_lines_naming(str(tmp_path / "gone.png"))) == 1


def test_a_bomb_is_refused_without_decoding_it(tmp_path):
    from openrtcc.adapters.video.images import read_image
    from openrtcc.adapters.video.media_kind import MediaKind, UnreadableMedia

    bomb = png_bomb(tmp_path / "bomb.png")
    assert bomb.stat().st_size < 1_000_000
    with pytest.raises(UnreadableMedia, match="10000x6000 is over 50 megapixels"):
        read_image(bomb, MediaKind.PNG)


@pytest.mark.parametrize("args, message", [
    (["--region", "California"], "--region"),
    (["--model-dir", "/nonexistent/models"], "cannot start the plate reader"),
])
def test_a_bad_option_stops_before_reading(tmp_path, args, message):
    paths, _ = reencoded(tmp_path)
    done = run_read(*args, str(paths["jpg"]), timeout=60)
    assert done.returncode == 2
    assert done.stdout == ""
    assert message in done.stderr


def test_a_video_is_recognised_by_content_whatever_its_name(tmp_path):
    """Not read here (the video tests do that): only sniffed, so that a renamed file is not refused."""
    from openrtcc.adapters.video.media_kind import MediaKind, kind_of_file

    renamed = tmp_path / "clip.jpg"
    with VIDEO.open("rb") as f:
        renamed.write_bytes(f.read(64))
    assert kind_of_file(renamed) is MediaKind.MP4
