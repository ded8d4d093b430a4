"""`rtcc bench registry` at tiny scale: every figure is produced, and the results section is written in place."""

from __future__ import annotations

import sqlite3
from datetime import UTC, datetime

import pytest

from openrtcc.bench.registry import BenchPlan, run_bench
from openrtcc.bench.report import SECTION_TITLE, MapFigures, RegistryFigures, percentile, write_section


@pytest.fixture(scope="module")
def tiny_run(tmp_path_factory):
    data_dir = tmp_path_factory.mktemp("bench") / "data"
    plan = BenchPlan(cameras=200, registrations=40, owner_sessions=2, batch_registrations=30, batch_size=10,
                     searches=50, warmup_searches=5, browser=False)
    return run_bench(plan, data_dir), data_dir


def test_every_phase_produces_its_figures(tiny_run):
    figures, _ = tiny_run
    assert figures.http_registered == 40 and figures.register_rate > 0
    assert figures.batch_registered == 30 and figures.batch_size == 10 and figures.batch_rate > 0
    assert figures.http_registered + figures.batch_registered + figures.bulk_imported == 200
    assert figures.bulk_rate > 0
    assert len(figures.search_ms) == 50 and figures.search_ms == sorted(figures.search_ms)
    assert 0 < figures.search_percentile(50) <= figures.search_percentile(99)
    assert figures.mean_results >= 0
    assert figures.map.cold_ms is None and figures.verdicts["map"] is None  # no browser asked for


def test_the_database_holds_what_the_figures_claim(tiny_run):
    figures, data_dir = tiny_run
    with sqlite3.connect(data_dir / "rtcc.db") as db:
        assert db.execute("SELECT count(*) FROM camera").fetchone()[0] == 200
        registered = db.execute("SELECT count(*) FROM audit_log WHERE action = 'camera.register'").fetchone()[0]
        searches = db.execute("SELECT count(*) FROM audit_log WHERE action = 'camera.search_radius'").fetchone()[0]
        bulk = db.execute("SELECT count(*) FROM audit_log WHERE action = 'bench.bulk_import'").fetchone()[0]
    # every registration, one by one or in a batch, went through the audited API: a record per camera
    assert registered == figures.http_registered + figures.batch_registered
    assert searches == 55  # warm-up included: every search is audited, measured or not
    assert bulk >= 2  # one audited transaction per agency at least


def test_the_section_replaces_its_old_self_and_keeps_the_rest(tiny_run, tmp_path):
    figures, _ = tiny_run
    results = tmp_path / "benchmarks.md"
    results.write_text(f"# Benchmarks\n\n## Plates\n\nkeep me\n\n{SECTION_TITLE}\n\nstale figures\n\n## Later\n\nme too\n")
    write_section(results, figures, datetime(2026, 11, 21, 12, 0, tzinfo=UTC))
    text = results.read_text()
    assert text.count(SECTION_TITLE) == 1 and "stale figures" not in text
    assert "keep me" in text and "me too" in text
    assert text.index("## Plates") < text.index(SECTION_TITLE) < text.index("## Later")
    assert "Run 2026-11-21 12:00 UTC" in text and f"{figures.register_rate:,.0f} cameras/s" in text


def test_a_missing_results_file_is_created_with_an_introduction(tiny_run, tmp_path):
    figures, _ = tiny_run
    results = tmp_path / "docs" / "benchmarks.md"
    write_section(results, figures)
    text = results.read_text()
    assert text.startswith("# Benchmarks") and SECTION_TITLE in text


def test_verdicts_compare_each_figure_with_its_target():
    fast = RegistryFigures(cameras=100_000, map_cameras=40_000, http_registered=5_000, http_seconds=8.0,
                           search_ms=[2.0] * 99 + [9.9], map=MapFigures(points=40_000, cold_ms=1_400.0))
    assert fast.verdicts == {"register": True, "batch": None, "search": True, "map": True} and fast.all_pass
    slow = RegistryFigures(cameras=100_000, map_cameras=40_000, http_registered=5_000, http_seconds=20.0,
                           search_ms=[2.0] * 98 + [11.0, 12.0], map=MapFigures(points=39_000, cold_ms=900.0))
    # 250 cameras/s is too slow, p99 is 11 ms, and a map missing a thousand cameras fails however fast.
    assert slow.verdicts == {"register": False, "batch": None, "search": False, "map": False}
    assert not slow.all_pass
    batched = RegistryFigures(cameras=100_000, map_cameras=40_000, batch_registered=5_000, batch_seconds=5.0)
    assert batched.verdicts["batch"] is True
    batched.batch_seconds = 20.0
    assert batched.verdicts["batch"] is False


def test_percentiles_are_nearest_rank():
    values = [float(v) for v in range(1, 101)]
    assert (percentile(values, 50), percentile(values, 99), percentile(values, 100)) == (50.0, 99.0, 100.0)
    assert percentile([7.0], 99) == 7.0
