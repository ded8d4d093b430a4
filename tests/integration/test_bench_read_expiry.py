"""`rtcc bench read-expiry` at small scale: it drops and deletes what it says, and leaves no database behind."""

from __future__ import annotations

import os

import psycopg
import pytest

from openrtcc.bench.read_expiry import SECTION_TITLE, run_bench, section
from openrtcc.bench.report import replace_section
from tests.conftest import PG_ADMIN_URL, _pg_available
from tests.services import require_service


@pytest.mark.slow
def test_a_small_run_expires_one_day_each_way_and_cleans_up(tmp_path):
    require_service(_pg_available(), "PostgreSQL", "apt-get install -y postgresql-15-postgis-3")
    figures = run_bench(PG_ADMIN_URL, reads_per_day=500, days=1)
    assert (figures.dropped_reads, figures.deleted_reads) == (500, 500)
    assert figures.drop_ms > 0 and figures.delete_ms > 0 and figures.vacuum_ms > 0
    with psycopg.connect(PG_ADMIN_URL.replace("postgresql+psycopg://", "postgresql://")) as conn:
        left = conn.execute("SELECT datname FROM pg_database WHERE datname = %s",
                            (f"rtcc_bench_expiry_{os.getpid()}",)).fetchall()
    assert left == []  # the scratch database is dropped
    out = tmp_path / "benchmarks.md"
    out.write_text("# Benchmarks\n\n## Registry (rtcc bench registry)\n\nkept\n")
    replace_section(out, SECTION_TITLE, section(figures))
    text = out.read_text()
    assert figures.delete_wal_bytes > 0 and figures.drop_wal_bytes >= 0
    assert "kept" in text and "| partition drop (DETACH + DROP, committed) | 500 |" in text
