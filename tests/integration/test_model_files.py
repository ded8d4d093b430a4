"""Model files: the resolution order, and the SHA-256-verified download against a real HTTP server on loopback."""

from __future__ import annotations

import hashlib
import http.server
import shutil
import threading
from functools import partial
from pathlib import Path

import pytest

from openrtcc.adapters.alpr.model_files import (
    OCR_CONFIG,
    OCR_MODEL,
    ModelFilesError,
    fetch_verified,
    resolve_model_files,
)
from tests.services import require_service

MODELS = Path(__file__).resolve().parents[3] / "shared" / "models" / "alpr"
OFFICIAL_DETECTOR = "yolo-v9-t-384-license-plates-end2end.onnx"


@pytest.fixture(scope="module")
def models() -> Path:
    require_service((MODELS / OCR_MODEL).is_file(), "plate-reader model files",
                    "place the offline copies at ../shared/models/alpr (see its README)")
    return MODELS


def _sha(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _detector_in(folder: Path) -> Path:
    return next(folder.glob("yolo-v9-*.onnx"))


def _model_folder(tmp_path: Path, models: Path, name: str) -> Path:
    """A folder holding the three files, the detector under an official name (a copy for this test only)."""
    folder = tmp_path / name
    folder.mkdir()
    shutil.copy(models / OCR_MODEL, folder / OCR_MODEL)
    shutil.copy(models / OCR_CONFIG, folder / OCR_CONFIG)
    shutil.copy(_detector_in(models), folder / OFFICIAL_DETECTOR)
    return folder


@pytest.fixture
def mirror(tmp_path, models):
    """A real HTTP server on 127.0.0.1 serving copies of the model files; yields (url, folder, requests)."""
    folder = _model_folder(tmp_path, models, "served")
    requests: list[str] = []

    class Handler(http.server.SimpleHTTPRequestHandler):
        def log_message(self, *args):
            requests.append(self.path)

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), partial(Handler, directory=str(folder)))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", folder, requests
    server.shutdown()
    server.server_close()


def test_explicit_folder_comes_before_the_environment_and_the_cache(tmp_path, models):
    explicit = _model_folder(tmp_path, models, "explicit")
    env = _model_folder(tmp_path, models, "env")
    cache = _model_folder(tmp_path, models, "cache")
    found = resolve_model_files(explicit, environ={"RTCC_MODEL_DIR": str(env)}, cache_dir=cache, download=False)
    assert found.ocr_model.parent == explicit
    found = resolve_model_files(None, environ={"RTCC_MODEL_DIR": str(env)}, cache_dir=cache, download=False)
    assert found.ocr_model.parent == env
    found = resolve_model_files(None, environ={}, cache_dir=cache, download=False)
    assert (found.detector, found.ocr_config) == (cache / OFFICIAL_DETECTOR, cache / OCR_CONFIG)


def test_a_named_folder_without_the_models_is_an_error_not_a_fall_through(tmp_path, models):
    cache = _model_folder(tmp_path, models, "cache")
    empty = tmp_path / "empty"
    empty.mkdir()
    with pytest.raises(ModelFilesError, match="configured model dir"):
        resolve_model_files(empty, environ={}, cache_dir=cache, download=False)
    with pytest.raises(ModelFilesError, match="RTCC_MODEL_DIR"):
        resolve_model_files(None, environ={"RTCC_MODEL_DIR": str(empty)}, cache_dir=cache, download=False)


def test_without_files_or_download_it_says_where_it_looked(tmp_path):
    with pytest.raises(ModelFilesError, match="no plate-reader models"):
        resolve_model_files(None, environ={}, cache_dir=tmp_path / "cache", download=False)


def test_download_with_the_right_hashes_fills_the_cache_and_is_used(tmp_path, mirror):
    url, served, requests = mirror
    cache = tmp_path / "cache"
    files = resolve_model_files(None, environ={}, cache_dir=cache, mirror=url,
                                detector_sha256=_sha(served / OFFICIAL_DETECTOR))
    assert files.detector == cache / OFFICIAL_DETECTOR
    assert _sha(files.ocr_model) == "8031afb5fdc6b4d80462c9d542f1284ebd2cfddf5dbacd62609848d7e2855f44"
    assert sorted(p.name for p in cache.iterdir()) == sorted([OCR_MODEL, OCR_CONFIG, OFFICIAL_DETECTOR])
    assert len(requests) == 3
    # Second resolution: the cache answers, nothing is fetched again.
    assert resolve_model_files(None, environ={}, cache_dir=cache, mirror=url) == files
    assert len(requests) == 3


def test_a_download_that_fails_verification_is_refused_and_leaves_nothing(tmp_path, mirror):
    url, served, _ = mirror
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(ModelFilesError, match="failed verification"):
        fetch_verified(f"{url}/{OCR_MODEL}", cache / OCR_MODEL, "0" * 64)
    assert list(cache.iterdir()) == []
    # A tampered file on the server: the pinned hash refuses it through the whole resolution too.
    (served / OCR_CONFIG).write_text("alphabet: '0123456789'\n")
    with pytest.raises(ModelFilesError, match=OCR_CONFIG):
        resolve_model_files(None, environ={}, cache_dir=cache, mirror=url,
                            detector_sha256=_sha(served / OFFICIAL_DETECTOR))
    assert not (cache / OCR_CONFIG).exists()
    assert not any(p.name.endswith(".part") for p in cache.iterdir())


def test_a_detector_without_a_known_hash_is_never_downloaded(tmp_path, mirror):
    url, _, requests = mirror
    with pytest.raises(ModelFilesError, match="RTCC_ALPR_DETECTOR_SHA256"):
        resolve_model_files(None, environ={}, cache_dir=tmp_path / "cache", mirror=url,
                            detector="yolo-v9-t-640-license-plate-end2end")
    with pytest.raises(ModelFilesError, match="unknown detector"):
        resolve_model_files(None, environ={}, cache_dir=tmp_path / "cache", mirror=url, detector="yolo-v42")
    assert requests == []


def test_a_missing_file_on_the_server_is_a_clear_error(tmp_path, mirror):
    url, _, _ = mirror
    cache = tmp_path / "cache"
    cache.mkdir()
    with pytest.raises(ModelFilesError, match="could not download"):
        fetch_verified(f"{url}/no-such.onnx", cache / "no-such.onnx", "0" * 64)
    assert list(cache.iterdir()) == []
