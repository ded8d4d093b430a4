"""Test support for `rtcc alpr read`: the shared model and data folders, and the command run as a process."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from dataclasses import dataclass
from pathlib import Path

from tests.services import require_service

SHARED = Path(__file__).resolve().parents[2] / "shared"
MODELS = SHARED / "models" / "alpr"
DATA = SHARED / "data" / "alpr"
VIDEO = DATA / "video" / "cars.mp4"
# A labelled US photo that the stock models read right (the reader's own tests rely on it too).
US_PHOTO = "0b86cecf-67d1-4fc0-87c9-b36b0ee228bb"
PLATE_KEYS = {"text", "confidence", "box", "region", "candidates"}


def require_alpr_files() -> None:
    require_service((MODELS / "cct_xs_v2_global.onnx").is_file() and VIDEO.is_file(),
                    "plate-reader models and evaluation data",
                    "place the offline copies at ../shared/models/alpr and ../shared/data/alpr")


def us_photo() -> tuple[Path, str]:
    """The labelled photo and its plate."""
    parts = (DATA / "us_dev" / f"{US_PHOTO}.txt").read_text().split()
    return DATA / "us_dev" / parts[0], parts[5]


@dataclass(frozen=True)
class Done:
    returncode: int
    lines: list[dict]
    stdout: str
    stderr: str

    def stderr_lines_naming(self, target: str) -> list[str]:
        return [line for line in self.stderr.splitlines() if line.startswith(f"{target}: ")]


def cli_env() -> dict[str, str]:
    return {**os.environ, "RTCC_MODEL_DIR": str(MODELS), "PYTHONUNBUFFERED": "1"}


def cli_command(*args: str) -> list[str]:
    return [sys.executable, "-m", "openrtcc.cli", "alpr", "read", *args]


def run_read(*args: str, timeout: float = 300) -> Done:
    done = subprocess.run(cli_command(*args), env=cli_env(), capture_output=True, text=True, timeout=timeout)
    # Every stdout line must be JSON: other tools parse it.
    lines = [json.loads(line) for line in done.stdout.splitlines()]
    return Done(done.returncode, lines, done.stdout, done.stderr)


def assert_contract(line: dict) -> None:
    """The issue's line schema, key for key; extra keys only for video passes."""
    base = {"source", "frame", "plates"}
    assert base <= set(line), line
    if line["frame"] is None:
        assert set(line) == base
    else:
        assert isinstance(line["frame"], int) and set(line) <= base | {"vehicle", "crop", "snapshot"}
    confs = [p["confidence"] for p in line["plates"]]
    assert confs == sorted(confs, reverse=True)
    for p in line["plates"]:
        assert set(p) == PLATE_KEYS
        assert isinstance(p["text"], str) and p["text"]
        assert isinstance(p["confidence"], float) and 0 <= p["confidence"] <= 1
        x1, y1, x2, y2 = p["box"]
        assert all(isinstance(v, int) for v in p["box"]) and x1 < x2 and y1 < y2
        assert p["region"] is None or isinstance(p["region"], str)
        assert p["candidates"] and all(set(c) == {"text", "confidence"} for c in p["candidates"])
