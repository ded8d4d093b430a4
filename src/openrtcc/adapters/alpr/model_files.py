"""Where the plate reader's model files come from: an explicit folder, RTCC_MODEL_DIR, the local cache,
or a download of the official release whose SHA-256 is checked before anything is kept."""

from __future__ import annotations

import hashlib
import logging
import os
import tempfile
import urllib.request
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

log = logging.getLogger(__name__)

OCR_MODEL = "cct_xs_v2_global.onnx"
OCR_CONFIG = "cct_xs_v2_global_plate_config.yaml"
# Detector files are recognised by name, official end-to-end exports first; within a folder the first
# present wins, so an operator who adds an official detector beside another gets the official one.
DETECTOR_GLOB = "yolo-v9-*-license-plate*.onnx"
DEFAULT_DETECTOR = "yolo-v9-t-384-license-plate-end2end"
MAX_DOWNLOAD_BYTES = 200 * 1024 * 1024


@dataclass(frozen=True, slots=True)
class Release:
    """An official model file: where it is published and, when known, its SHA-256."""

    filename: str
    url: str
    sha256: str | None


_OCR_BASE = "https://github.com/ankandrew/cnn-ocr-lp/releases/download/arg-plates"
_DET_BASE = "https://github.com/ankandrew/open-image-models/releases/download/assets"
OCR_RELEASES = (
    Release(OCR_MODEL, f"{_OCR_BASE}/{OCR_MODEL}",
            "8031afb5fdc6b4d80462c9d542f1284ebd2cfddf5dbacd62609848d7e2855f44"),
    Release(OCR_CONFIG, f"{_OCR_BASE}/{OCR_CONFIG}",
            "0335c74a305173bb6f393efed0fde03cadeaa0b649ed8e19f431016d8232d0a6"),
)
# open-image-models' FP32 detectors (MIT). Hashes are pinned where several independent published
# manifests agree on them; for the others the operator must configure the expected SHA-256, because
# an unverified download is never loaded.
DETECTOR_RELEASES: dict[str, Release] = {
    f"yolo-v9-{v}-license-plate-end2end": Release(
        f"yolo-v9-{v}-license-plates-end2end.onnx", f"{_DET_BASE}/yolo-v9-{v}-license-plates-end2end.onnx", sha)
    for v, sha in (
        ("t-256", None), ("t-384", "888397b96d761c89db40bc9c305838e8652660f5e282c2cadebbe8d2951a77a8"),
        ("t-416", None), ("t-512", None), ("t-640", None),
        ("s-608", "2b878b38d9aa07b6ddc3ea75c4ffcb39869bc5c218e0a14002f60ab2f7b0be9a"),
    )
}


class ModelFilesError(Exception):
    """The model files cannot be found, fetched or verified; the message says what to do."""


@dataclass(frozen=True, slots=True)
class ModelFiles:
    detector: Path
    ocr_model: Path
    ocr_config: Path

    @classmethod
    def in_dir(cls, folder: Path) -> ModelFiles:
        found = find_in_dir(folder)
        if found is None:
            raise ModelFilesError(
                f"{folder} does not hold the plate-reader models ({OCR_MODEL}, {OCR_CONFIG} and a "
                f"detector named like {DETECTOR_GLOB})")
        return found


def find_in_dir(folder: Path) -> ModelFiles | None:
    if not folder.is_dir():
        return None
    ocr, config = folder / OCR_MODEL, folder / OCR_CONFIG
    detectors = sorted(folder.glob(DETECTOR_GLOB), key=lambda p: ("end2end" not in p.name, p.name))
    if not (ocr.is_file() and config.is_file() and detectors):
        return None
    return ModelFiles(detectors[0], ocr, config)


def default_cache_dir(environ: Mapping[str, str] = os.environ) -> Path:
    base = environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "openrtcc" / "models"


def resolve_model_files(
    explicit: Path | None = None,
    *,
    environ: Mapping[str, str] = os.environ,
    cache_dir: Path | None = None,
    detector: str = DEFAULT_DETECTOR,
    detector_sha256: str | None = None,
    download: bool = True,
    mirror: str | None = None,
) -> ModelFiles:
    """Explicit folder -> RTCC_MODEL_DIR -> cache -> verified download into the cache.

    A folder named explicitly or by RTCC_MODEL_DIR must hold the files: the operator asked for it, so
    falling through to another source would hide a mistake."""
    for source, folder in (("the configured model dir", explicit), ("RTCC_MODEL_DIR", environ.get("RTCC_MODEL_DIR"))):
        if folder:
            try:
                return ModelFiles.in_dir(Path(folder).expanduser())
            except ModelFilesError as e:
                raise ModelFilesError(f"{source}: {e}") from None
    cache = cache_dir or default_cache_dir(environ)
    found = find_in_dir(cache)
    if found is not None:
        return found
    if not download:
        raise ModelFilesError(f"no plate-reader models in {cache}; set RTCC_MODEL_DIR or allow the download")
    return download_releases(cache, detector, detector_sha256, mirror)


def download_releases(cache: Path, detector: str, detector_sha256: str | None = None,
                      mirror: str | None = None) -> ModelFiles:
    """Fetch the OCR, its config and the detector into `cache`, each verified; `mirror` (a URL prefix
    serving the same file names, for sites without internet access) replaces the publishers' URLs."""
    release = DETECTOR_RELEASES.get(detector)
    if release is None:
        raise ModelFilesError(f"unknown detector {detector!r}; known: {', '.join(DETECTOR_RELEASES)}")
    expected = (detector_sha256 or release.sha256 or "").lower() or None
    if expected is None:
        raise ModelFilesError(
            f"no SHA-256 is pinned for {detector}; set RTCC_ALPR_DETECTOR_SHA256 to the hash you expect "
            f"(an unverified model is never loaded), or use {DEFAULT_DETECTOR}")
    cache.mkdir(parents=True, exist_ok=True)
    for r in (*OCR_RELEASES, Release(release.filename, release.url, expected)):
        target = cache / r.filename
        if not target.is_file():
            url = f"{mirror.rstrip('/')}/{r.filename}" if mirror else r.url
            fetch_verified(url, target, r.sha256 or "")
    return ModelFiles.in_dir(cache)


def fetch_verified(url: str, target: Path, sha256: str, timeout_s: float = 60.0) -> Path:
    """Download `url` to `target` only if its SHA-256 is `sha256`: written to a temporary file beside
    the target, hashed while written, then renamed into place; on any failure nothing is left."""
    if len(sha256) != 64:
        raise ModelFilesError(f"refusing to download {target.name}: no SHA-256 to check it against")
    if not url.startswith(("https://", "http://")):
        raise ModelFilesError(f"refusing to download {target.name} from a non-HTTP URL")
    log.info("downloading %s", url)
    fd, tmp_name = tempfile.mkstemp(prefix=f".{target.name}.", suffix=".part", dir=target.parent)
    tmp = Path(tmp_name)
    try:
        digest = hashlib.sha256()
        with os.fdopen(fd, "wb") as out, urllib.request.urlopen(url, timeout=timeout_s) as response:
            size = 0
            while chunk := response.read(1 << 20):
                size += len(chunk)
                if size > MAX_DOWNLOAD_BYTES:
                    raise ModelFilesError(f"{target.name}: download larger than {MAX_DOWNLOAD_BYTES} bytes")
                digest.update(chunk)
                out.write(chunk)
            out.flush()
            os.fsync(out.fileno())
        got = digest.hexdigest()
        if got != sha256.lower():
            raise ModelFilesError(
                f"{target.name} from {url} failed verification: SHA-256 {got}, expected {sha256.lower()}; "
                "nothing was kept")
        os.replace(tmp, target)
        return target
    except OSError as e:
        raise ModelFilesError(f"could not download {target.name} from {url}: {e}") from None
    finally:
        tmp.unlink(missing_ok=True)
