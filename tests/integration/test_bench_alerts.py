"""`rtcc bench alerts` at small scale: the figures come from what really happened, and the section is written."""

from __future__ import annotations

import sqlite3

import pytest

from openrtcc.bench.alerts import SECTION_TITLE, run_bench, section
from openrtcc.bench.report import replace_section


@pytest.mark.slow
def test_a_short_run_measures_every_alert_it_sent(tmp_path):
    data_dir = tmp_path / "data"
    figures = run_bench(rate=40, seconds=1.0, data_dir=data_dir, entries=300)
    assert figures.reads_sent == 40 and figures.batch == 4
    assert figures.hits_sent >= 4 and len(figures.latency_ms) == figures.hits_sent
    assert figures.latency_ms == sorted(figures.latency_ms) and 0 < figures.latency_ms[0]
    assert len(figures.post_ms) == 10
    with sqlite3.connect(data_dir / "rtcc.db") as db:
        assert db.execute("SELECT count(*) FROM plate_read").fetchone()[0] == 40
        assert db.execute("SELECT count(*) FROM alert").fetchone()[0] == figures.hits_sent
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n## Registry (rtcc bench registry)\n\nkept\n")
    replace_section(out, SECTION_TITLE, section(figures))
    text = out.read_text()
    assert "kept" in text and SECTION_TITLE in text and "p99 <= 250 ms" in text and "How it was measured" in text
