"""OpenCV's face and model-loading APIs made unusable in hub and edge processes.

OpenCV ships face detection and recognition with the library: `FaceDetectorYN` (YuNet) and
`FaceRecognizerSF` (SFace) in 5.x, `CascadeClassifier` with Haar face cascades in 4.x, and the `cv2.dnn`
readers that load any network (the classic face detector is a Caffe model). The project loads models only
through the model registry (adapters/alpr/sessions.py), so each of these names is replaced by a function
that raises ProhibitedModel. The composition roots (bootstrap.build_hub, edge.agent.EdgeAgent) call
`disable_face_apis` once; it is idempotent and covers names a later OpenCV adds if they say face or cascade.
This stops use by mistake, by a plugin or by configuration; it is not a sandbox against code already
running inside the process.
"""

from __future__ import annotations

import re
import threading
from types import ModuleType

from openrtcc.domain.model_registry import ProhibitedModel

# cv2 names (any OpenCV version) that detect, recognise or cascade: FaceDetectorYN, FaceRecognizerSF_create,
# CascadeClassifier, the contrib `face` module ... but not FontFace (a font) or upper-case constants.
_FACE_NAME = re.compile(r"(?i)face|cascade")
_NOT_FACE = frozenset({"FontFace"})
# cv2.dnn: every way to read a network file, and the high-level model classes that read one in their constructor.
_DNN_NAME = re.compile(r"^(readNet\w*|Net_read\w*|Net|\w*Model)$")

_lock = threading.Lock()


class RefusedOpenCvApi:
    """Stands where an OpenCV face or model-loading API was: calling it (or anything on it) is refused."""

    def __init__(self, name: str):
        self.name = name

    def _refuse(self):
        raise ProhibitedModel(f"{self.name} is disabled: OpenRTCC does no facial recognition and loads models "
                              "only through its model registry", details={"api": self.name})

    def __call__(self, *args, **kwargs):
        self._refuse()

    def __getattr__(self, attr: str):
        if attr.startswith("__"):
            raise AttributeError(attr)
        return RefusedOpenCvApi(f"{self.name}.{attr}")


def face_api_names(cv2: ModuleType) -> list[str]:
    """The names on `cv2` and `cv2.dnn` that the guard replaces."""
    names = [n for n in dir(cv2) if _FACE_NAME.search(n) and n not in _NOT_FACE and not n.isupper()]
    dnn = getattr(cv2, "dnn", None)
    if dnn is not None:
        names += [f"dnn.{n}" for n in dir(dnn) if _DNN_NAME.match(n)]
    return names


def disable_face_apis(cv2: ModuleType | None = None) -> list[str]:
    """Replace OpenCV's face and network-loading APIs with refusals; returns the names replaced."""
    if cv2 is None:
        import cv2
    with _lock:
        names = face_api_names(cv2)
        for name in names:
            owner, attr = (cv2.dnn, name[4:]) if name.startswith("dnn.") else (cv2, name)
            if not isinstance(getattr(owner, attr), RefusedOpenCvApi):
                setattr(owner, attr, RefusedOpenCvApi(f"cv2.{name}"))
        return names
