"""rtcc bench alpr: the sets' scoring convention, the placeholder labels, and its section of the results file."""

from __future__ import annotations

from pathlib import Path

import pytest

from openrtcc.bench.alpr import SECTION_TITLE, SetFigures, load_crops, load_e2e, score_text, section
from openrtcc.bench.report import replace_section


@pytest.mark.parametrize(("text", "us", "expected"), [
    ("7ab-c 123", False, "7ABC123"),
    ("RKO99AN", False, "RKO99AN"),
    ("R820503", True, "R820503"),
    ("ROO5", True, "R005"),  # US labels write 0 for O: fold on both sides
])
def test_score_text(text, us, expected):
    assert score_text(text, us) == expected


def test_sets_are_loaded_and_placeholders_skipped(tmp_path: Path):
    (tmp_path / "e2e").mkdir()
    (tmp_path / "e2e" / "a.txt").write_text("a.jpg\t10\t20\t30\t15\tAB123\n")
    (tmp_path / "crops").mkdir()
    (tmp_path / "crops" / "labels.csv").write_text(
        "image_path,state,plate_text\r\nimg/1.jpg,ca,7ABC123\r\nimg/2.jpg,vt,0\r\n")
    [sample] = load_e2e(tmp_path / "e2e")
    assert (sample.label, sample.box) == ("AB123", (10.0, 20.0, 40.0, 35.0))
    samples, skipped = load_crops(tmp_path / "crops")
    assert [(s.label, s.region_hint) for s in samples] == [("7ABC123", "US-CA")]
    assert skipped == 1


def test_section_judges_ours_against_the_target_and_shows_the_stock_beside(tmp_path: Path):
    ours = SetFigures("us_dev", "ours", samples=100, top1=94, top1_folded=95, topn=97, box_found=99, ms=[80.0])
    stock = SetFigures("us_dev", "stock", samples=100, top1=83, top1_folded=83, topn=90, box_found=99, ms=[70.0])
    text = section([ours, stock], "detector.onnx")
    row = next(line for line in text.splitlines() if line.startswith("| us_dev"))
    assert "94.0% / 83.0%" in row and ">= 93%" in row and row.endswith("PASS |")
    results = tmp_path / "benchmarks.md"
    results.write_text("# Benchmarks\n\n## Registry (rtcc bench registry)\n\nkept\n")
    replace_section(results, SECTION_TITLE, text)
    assert "kept" in results.read_text() and SECTION_TITLE in results.read_text()
    failing = SetFigures("us_dev", "ours", samples=100, top1=90, ms=[1.0])
    assert next(ln for ln in section([failing], "d").splitlines() if ln.startswith("| us_dev")).endswith("FAIL |")
