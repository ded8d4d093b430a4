"""The model registry: allowed tasks only, face and re-identification tasks refused, face markers found
wherever a model's description hides them, and no false alarm on ordinary names."""

from __future__ import annotations

import pytest

from openrtcc.domain.errors import Forbidden
from openrtcc.domain.model_registry import (
    ALLOWED_TASKS,
    PROHIBITED_TASKS,
    ModelDescription,
    ModelTask,
    ProhibitedModel,
    admit_model,
    admit_task,
    face_marker,
)

PLATE_OCR = ModelDescription("cct_xs_v2_global.onnx", producer="tf2onnx", graph_name="tf2onnx",
                             input_names=("input",), output_names=("plate", "region"),
                             node_names=("CCT_OCR_1/Cast", "CCT_OCR_1/conv_stem_1/conv2d_1/BiasAdd"))


def test_the_allowed_tasks_are_plate_detection_and_ocr_only():
    assert ALLOWED_TASKS == {ModelTask.PLATE_DETECTION, ModelTask.PLATE_OCR}
    assert admit_task("plate_ocr") is ModelTask.PLATE_OCR
    assert admit_model("plate_detection", ModelDescription("yolo-v9-t-384-license-plates-end2end.onnx",
                                                           input_names=("images",), output_names=("output",)))


@pytest.mark.parametrize("task", sorted(PROHIBITED_TASKS))
def test_every_face_and_person_identification_task_is_refused(task):
    with pytest.raises(ProhibitedModel) as refused:
        admit_model(task, PLATE_OCR)  # even with a plate model's file: the task decides first
    assert refused.value.code == "prohibited_model" and "prohibited" in refused.value.message
    assert isinstance(refused.value, Forbidden)  # a 403 wherever it reaches the API


@pytest.mark.parametrize("task", ["vehicle_make", "object_detection", "", "PLATE_OCR", "plate_ocr "])
def test_an_unknown_task_is_refused_by_default(task):
    with pytest.raises(ProhibitedModel, match="not a task a model may be loaded for"):
        admit_task(task)


@pytest.mark.parametrize("field, value, where", [
    ("file_name", "face_detection_yunet_2023mar.onnx", "file name"),
    ("file_name", "YuNet.onnx", "file name"),
    ("file_name", "w600k_r50.onnx", None),  # an InsightFace file name says nothing: its graph does (next rows)
    ("producer", "insightface", "producer"),
    ("graph_name", "RetinaFace", "graph name"),
    ("doc_string", "ArcFace embedding trained on MS1MV3", "documentation"),
    ("metadata", {"task": "face_recognition"}, "metadata 'task'"),
    ("metadata", {"model": "SFace"}, "metadata 'model'"),
    ("metadata", {"dataset": "WIDERFace"}, "metadata 'dataset'"),
    ("input_names", ("faceImage",), "input"),
    ("output_names", ("embeddings", "landmarks_face"), "output"),
    ("node_names", ("/backbone/conv1", "FaceDetectorYN/head"), "node"),
    ("node_names", ("osnet_x1_0/conv1",), "node"),
    ("output_names", ("person_reid_feature",), "output"),
    ("doc_string", "gait recognition from silhouettes", "documentation"),
])
def test_a_face_marker_anywhere_in_the_description_refuses_the_model(field, value, where):
    model = ModelDescription(**{"file_name": "model.onnx", field: value})
    if where is None:
        assert admit_model("plate_ocr", model) is ModelTask.PLATE_OCR
        return
    with pytest.raises(ProhibitedModel) as refused:
        admit_model("plate_ocr", model)
    assert refused.value.details["where"] == where
    assert "face or person-identification model" in refused.value.message


@pytest.mark.parametrize("name", ["surface_normals", "interface", "typeface_ocr", "facet_head", "plate_region",
                                  "license-plates-end2end", "CCT_OCR_1/rescaling_1/mul", "output0", "images",
                                  "BiasAdd__366", "preface"])
def test_ordinary_names_are_not_face_markers(name):
    assert face_marker(name) is None


def test_a_real_plate_ocr_description_is_admitted():
    assert admit_model(ModelTask.PLATE_OCR, PLATE_OCR) is ModelTask.PLATE_OCR
