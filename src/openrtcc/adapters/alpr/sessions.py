"""onnxruntime sessions: CPU by default, a GPU execution provider when this onnxruntime build offers one."""

from __future__ import annotations

import logging
from pathlib import Path

import onnxruntime as ort

from openrtcc.adapters.alpr.onnx_description import describe_onnx
from openrtcc.domain.model_registry import ModelTask, admit_model

log = logging.getLogger(__name__)

# Preference order among the accelerators onnxruntime may have been built with; CPU always comes last
# so that an operator the GPU provider lacks still runs.
GPU_PROVIDERS = ("TensorrtExecutionProvider", "CUDAExecutionProvider", "ROCMExecutionProvider")


def choose_providers(use_gpu: bool = True) -> list[str]:
    available = ort.get_available_providers()
    chosen = [p for p in GPU_PROVIDERS if use_gpu and p in available]
    return [*chosen, "CPUExecutionProvider"]


def open_session(path: Path, task: ModelTask, threads: int = 0, use_gpu: bool = True) -> ort.InferenceSession:
    """One inference session for `task`; `threads` 0 lets onnxruntime choose (one per core).

    The model registry judges the file first (ProhibitedModel for a face or re-identification model, or a
    task outside the allowed set): this is the only place the project makes a session.
    `InferenceSession.run` may be called from several threads at once, so one session serves a process."""
    admit_model(task, describe_onnx(path))
    options = ort.SessionOptions()
    options.intra_op_num_threads = max(0, threads)
    options.inter_op_num_threads = 1
    options.graph_optimization_level = ort.GraphOptimizationLevel.ORT_ENABLE_ALL
    options.log_severity_level = 3  # onnxruntime warns about unused initialisers in these exports
    session = ort.InferenceSession(str(path), sess_options=options, providers=choose_providers(use_gpu))
    log.info("loaded %s on %s", path.name, session.get_providers()[0])
    return session
