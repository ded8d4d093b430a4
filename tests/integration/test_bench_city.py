"""`rtcc bench city` at a tiny scale: a real CityCluster (NATS, PostgreSQL, one serve, one worker), boxes posting
reads, operators on /ws/alerts: every read accepted, every alert to every operator once, the section written,
the scratch database dropped; bad options refused before anything starts."""

from __future__ import annotations

import psycopg
import pytest

from openrtcc.bench.city_report import SECTION_TITLE, section, verdicts
from openrtcc.bench.city_run import CityOptions, run_city
from openrtcc.bench.report import replace_section
from openrtcc.cli import main
from tests.conftest import PG_ADMIN_URL, _pg_available
from tests.services import require_service


def _bench_databases() -> set[str]:
    with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")) as conn:
        return {r[0] for r in conn.execute("SELECT datname FROM pg_database WHERE datname LIKE 'rtcc_bench_city_%'")}


@pytest.mark.slow
def test_a_tiny_city_run_delivers_every_alert_to_every_operator(tmp_path):
    require_service(_pg_available(), "PostgreSQL/PostGIS", "apt-get install -y postgresql-15-postgis-3")
    before = _bench_databases()
    options = CityOptions(cameras=200, edges=20, rate=20.0, hit_share=0.1, operators=3, seconds=5.0, workers=1,
                          pg_url=PG_ADMIN_URL, min_list_entries=1_000)
    run = run_city(options, serve=1)

    e, o = run.edges, run.operators
    assert e.generated == 100 and e.hits_sent == 10
    assert e.accepted == e.generated and e.pending_at_end == 0
    assert not [k for k in e.errors if k.isdigit()]  # no refusal; a keep-alive race is re-sent like a real box's
    assert len(e.post_ms) == e.posts > 0 and sum(e.batch_sizes.values()) == e.posts
    assert o.connected == 3 and o.received == [10, 10, 10]  # every hit, on every operator's socket, once
    assert o.duplicates == 0 and o.unknown == 0 and len(o.latency_ms) == 30 and min(o.latency_ms) > 0
    assert {"serve-0", "worker-0", "nats", "postgresql", "driver-edges", "driver-operators"} \
        <= run.resources.by_process.keys()
    assert verdicts(run, options) == {"rate": False, "duration": False, "nothing_lost": True, "alerts": True}
    assert _bench_databases() == before  # the scratch database is dropped

    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n## Registry (rtcc bench registry)\n\nkept\n")
    replace_section(out, SECTION_TITLE, section([run], options, "--serve 1", "A smoke run."))
    text = out.read_text()
    assert "kept" in text and SECTION_TITLE in text and "A smoke run." in text
    assert "| reads accepted in all / made | 100 / 100 |" in text
    assert "| operators who received every alert | 3 of 3 (fewest: 10) |" in text
    assert "does not meet the target (a 5 s run" in text


@pytest.mark.parametrize("bad, message", [
    (["--serve", "0"], "--serve: each process count between 1 and 16"),
    (["--serve", "one,3"], "--serve takes comma-separated process counts"),
    (["--hit-share", "1.5"], "--hit-share must be in (0, 1]"),
    (["--edges", "50", "--cameras", "10"], "--cameras must be at least --edges"),
    (["--rate", "-5"], "--rate and --seconds must be positive"),
])
def test_bad_options_are_refused_before_anything_starts(tmp_path, capsys, bad, message):
    out = tmp_path / "benchmarks.md"
    assert main(["bench", "city", "--output", str(out), *bad]) == 2
    assert message in capsys.readouterr().err
    assert not out.exists()
