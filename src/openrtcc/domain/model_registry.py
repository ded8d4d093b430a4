"""The model registry: the tasks a model may be loaded for, and the refusal of anything that reads faces.

OpenRTCC promises no facial recognition by construction. Every model the hub or an edge box loads
passes `admit_model` first (adapters/alpr/sessions.py is the only place an inference session is made):
the task it is loaded for must be one of ALLOWED_TASKS, and nothing the model says about itself (file
name, producer, graph name, documentation, metadata, input, output and node names) may mark it as a
face or person-identification model. Unknown tasks are refused too: the list grows by a code change that
a reviewer reads, never by configuration.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from enum import StrEnum

from openrtcc.domain.errors import Forbidden


class ModelTask(StrEnum):
    """What a model may be loaded for. Vehicle colour is read from pixels (adapters/video/vehicle_colour.py),
    with no model, so it has no task here."""

    PLATE_DETECTION = "plate_detection"
    PLATE_OCR = "plate_ocr"


ALLOWED_TASKS = frozenset(ModelTask)

# Named so that a refusal says plainly what was asked for; anything else outside ALLOWED_TASKS is refused too.
PROHIBITED_TASKS = frozenset({
    "face_detection", "face_recognition", "face_verification", "face_identification", "face_landmarks",
    "face_embedding", "face_attributes", "face_tracking", "facial_expression", "emotion_recognition",
    "age_estimation", "gender_estimation", "person_reidentification", "person_search", "gait_recognition",
    "iris_recognition", "body_biometrics",
})

# Whole words that mark a face or person-identification model wherever they appear in its description.
MARKER_WORDS = frozenset({
    "face", "faces", "facial", "faceid", "biometric", "biometrics", "reid", "reidentification",
    "reidentify", "gait", "iris", "landmark68", "sface", "yunet", "mtcnn", "scrfd", "dlib",
})
# Parts of words that only face models use (architectures and datasets), caught inside longer names.
MARKER_PARTS = ("arcface", "retinaface", "insightface", "facenet", "blazeface", "frontalface", "profileface",
                "facemesh", "faceboxes", "deepface", "cosface", "sphereface", "adaface", "vggface",
                "widerface", "celeba", "ms1m", "glint360k", "webface", "personreid", "osnet", "fastreid")
# Words beginning with "face" that are not about faces.
NOT_FACE_WORDS = frozenset({"facet", "facets", "faceted"})


class ProhibitedModel(Forbidden):
    """A model asked for a task outside the allowed set, or marks itself as a face or re-identification model."""

    code = "prohibited_model"


@dataclass(frozen=True, slots=True)
class ModelDescription:
    """What a model file says about itself, read without running it (see adapters/alpr/onnx_description.py)."""

    file_name: str
    producer: str = ""
    graph_name: str = ""
    doc_string: str = ""
    metadata: Mapping[str, str] = field(default_factory=dict)
    input_names: tuple[str, ...] = ()
    output_names: tuple[str, ...] = ()
    node_names: tuple[str, ...] = ()

    def texts(self) -> Iterable[tuple[str, str]]:
        """(where, text) for every string a marker may hide in."""
        yield "file name", self.file_name
        yield "producer", self.producer
        yield "graph name", self.graph_name
        yield "documentation", self.doc_string
        for key, value in self.metadata.items():
            yield f"metadata {key[:40]!r}", f"{key} {value}"
        for kind, names in (("input", self.input_names), ("output", self.output_names), ("node", self.node_names)):
            for name in names:
                yield kind, name


def admit_task(task: str) -> ModelTask:
    """The task, if a model may be loaded for it; ProhibitedModel otherwise."""
    if task in PROHIBITED_TASKS:
        raise ProhibitedModel(f"models for {task} are prohibited: OpenRTCC does no facial recognition or "
                              "person identification", details={"task": task})
    if task not in ALLOWED_TASKS:
        raise ProhibitedModel(f"{task!r} is not a task a model may be loaded for (allowed: "
                              f"{', '.join(sorted(ALLOWED_TASKS))})", details={"task": task})
    return ModelTask(task)


def admit_model(task: str, model: ModelDescription) -> ModelTask:
    """Refuse (ProhibitedModel) unless the task is allowed and nothing in the model marks it as a face model."""
    allowed = admit_task(task)
    for where, text in model.texts():
        marker = face_marker(text)
        if marker is not None:
            raise ProhibitedModel(
                f"{model.file_name}: its {where} marks it as a face or person-identification model "
                f"({marker!r}); OpenRTCC does not load such models", details={"where": where, "marker": marker})
    return allowed


def face_marker(text: str) -> str | None:
    """The first word of `text` that marks a face or person-identification model, or None."""
    for word in words_of(text):
        if word in MARKER_WORDS or (word.startswith("face") and word not in NOT_FACE_WORDS):
            return word
        for part in MARKER_PARTS:
            if part in word:
                return part
    return None


_CAMEL = re.compile(r"(?<=[a-z0-9])(?=[A-Z])")
_SEPARATORS = re.compile(r"[^a-z0-9]+")


def words_of(text: str) -> list[str]:
    """Lower-case words of a name, split at separators and, again, at camel case (`YuNet` must stay whole
    to be recognised, `ArcFaceHead` must be split): `ArcFaceHead/out` -> arcfacehead, out, arc, face,
    head."""
    whole = _SEPARATORS.split(text.lower())
    split = _SEPARATORS.split(_CAMEL.sub(" ", text).lower())
    return [w for w in dict.fromkeys(whole + split) if w]
