"""rtcc bench read-expiry: expiring a day of plate reads on PostgreSQL, a partition drop against a DELETE."""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import psycopg
from sqlalchemy import Engine, text

from openrtcc.adapters.db.engine import make_engine, migrate
from openrtcc.adapters.db.read_partitions import ReadPartitions
from openrtcc.bench.report import machine, replace_section

SECTION_TITLE = "## Read expiry on PostgreSQL (rtcc bench read-expiry)"
DAY = timedelta(days=1)
LOCAL_PG = "postgresql+psycopg://rtcc:rtcc@127.0.0.1:5432/postgres"
# One day's reads, made in the database itself (the ingest is measured by `rtcc bench alerts`).
_SEED = """
INSERT INTO plate_read (id, agency_id, source_id, read_key, plate, plate_key, confidence, candidates, lat, lon,
                        content_hash, captured_at, received_at)
SELECT gen_random_uuid()::text, :agency, :source, :prefix || g, 'B' || lpad((g % 999983)::text, 6, '0'),
       'B' || lpad((g % 999983)::text, 6, '0'), 0.9, '[]'::jsonb, 43.0, -87.9, md5(g::text) || md5(g::text),
       :day + (g % 86400) * interval '1 second', :day + (g % 86400) * interval '1 second'
FROM generate_series(1, :n) AS g
"""


@dataclass(frozen=True, slots=True)
class ExpiryFigures:
    reads_per_day: int
    days: int
    drop_ms: float  # DETACH + DROP of one day partition, to commit
    dropped_reads: int
    delete_ms: float  # DELETE of as many reads from the default partition, to commit
    deleted_reads: int
    vacuum_ms: float  # VACUUM of the default partition afterwards: only then is the DELETE's space reusable
    drop_wal_bytes: int  # write-ahead log the drop wrote (server-wide: a quiet server gives the drop's own)
    delete_wal_bytes: int


def run_bench(admin_url: str, reads_per_day: int, days: int) -> ExpiryFigures:
    """A scratch database beside the others on the server given, dropped again at the end."""
    name = f"rtcc_bench_expiry_{os.getpid()}"
    plain = admin_url.replace("postgresql+psycopg://", "postgresql://")
    with psycopg.connect(plain, autocommit=True) as conn:
        conn.execute(f'DROP DATABASE IF EXISTS "{name}"')
        conn.execute(f'CREATE DATABASE "{name}"')
    url = admin_url.rsplit("/", 1)[0] + f"/{name}"
    try:
        migrate(url)
        engine = make_engine(url)
        try:
            return _measure(engine, reads_per_day, days)
        finally:
            engine.dispose()
    finally:
        with psycopg.connect(plain, autocommit=True) as conn:
            conn.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def _measure(engine: Engine, reads_per_day: int, days: int) -> ExpiryFigures:
    today = datetime.combine(datetime.now(UTC).date(), datetime.min.time(), UTC)
    first = today - days * DAY
    agency, source = _seed_owners(engine)
    with engine.begin() as conn:
        for i in range(1, days + 1):  # each call makes the day before it and its own: first .. today
            ReadPartitions(conn).ensure_ahead(first + i * DAY, days=0)
    # The oldest day has its partition; the day before it has none, so its reads sit in the default partition.
    for day, prefix in [(first - 2 * DAY, "d"), *((first + i * DAY, f"p{i}-") for i in range(days + 1))]:
        with engine.begin() as conn:
            conn.execute(text(_SEED), {"agency": agency, "source": source, "prefix": prefix, "day": day,
                                       "n": reads_per_day})
    with engine.connect() as conn:
        conn.execute(text("ANALYZE plate_read"))
        conn.commit()
    started, wal = time.perf_counter(), _wal_position(engine)
    with engine.begin() as conn:
        deleted = conn.execute(text("DELETE FROM plate_read WHERE agency_id = :a AND captured_at < :c"),
                               {"a": agency, "c": first - DAY}).rowcount
    delete_ms, delete_wal = (time.perf_counter() - started) * 1000, _wal_since(engine, wal)
    started = time.perf_counter()
    with engine.connect().execution_options(isolation_level="AUTOCOMMIT") as conn:
        conn.execute(text("VACUUM plate_read_default"))
    vacuum_ms = (time.perf_counter() - started) * 1000
    started, wal = time.perf_counter(), _wal_position(engine)
    with engine.begin() as conn:
        dropped = ReadPartitions(conn).drop_older_than(first + DAY)
    drop_ms, drop_wal = (time.perf_counter() - started) * 1000, _wal_since(engine, wal)
    return ExpiryFigures(reads_per_day, days, drop_ms, dropped.reads, delete_ms, deleted, vacuum_ms,
                         drop_wal, delete_wal)


def _wal_position(engine: Engine) -> str:
    with engine.connect() as conn:
        return str(conn.execute(text("SELECT pg_current_wal_insert_lsn()")).scalar())


def _wal_since(engine: Engine, position: str) -> int:
    """Write-ahead log written since `position`, by the whole server (a quiet server gives the statement's)."""
    with engine.connect() as conn:
        return int(conn.execute(text("SELECT pg_wal_lsn_diff(pg_current_wal_insert_lsn(), CAST(:p AS pg_lsn))"),
                                {"p": position}).scalar())


def _seed_owners(engine: Engine) -> tuple[str, str]:
    now = datetime.now(UTC)
    with engine.begin() as conn:
        conn.execute(text("INSERT INTO agency (id, slug, name, jurisdiction, created_at) "
                          "VALUES ('bench-agency', 'bench', 'Bench Police', CAST(:j AS jsonb), :now)"),
                     {"j": '{"type": "Polygon", "coordinates": []}', "now": now})
        conn.execute(text("INSERT INTO read_source (id, agency_id, name, kind, key_hash, created_at) "
                          "VALUES ('bench-source', 'bench-agency', 'bench', 'lpr_camera', :k, :now)"),
                     {"k": "0" * 64, "now": now})
    return "bench-agency", "bench-source"


def section(f: ExpiryFigures, when: datetime | None = None) -> str:
    when = when or datetime.now(UTC)
    return "\n".join([
        SECTION_TITLE, "", f"Run {when:%Y-%m-%d %H:%M} UTC on {machine()}.", "",
        "| expiring one day of reads | reads | time | write-ahead log |", "| --- | --- | --- | --- |",
        f"| partition drop (DETACH + DROP, committed) | {f.dropped_reads:,} | {f.drop_ms:,.0f} ms | "
        f"{f.drop_wal_bytes / 1e6:,.2f} MB |",
        f"| DELETE from the default partition (committed) | {f.deleted_reads:,} | {f.delete_ms:,.0f} ms | "
        f"{f.delete_wal_bytes / 1e6:,.2f} MB |",
        f"| VACUUM of the default partition after the DELETE | | {f.vacuum_ms:,.0f} ms | |", "",
        f"How it was measured: a scratch database on the PostgreSQL server given, migrated to head; "
        f"{f.reads_per_day:,} reads per day for {f.days + 1} day partitions and one day in the DEFAULT partition "
        "(no partition of its own), made by INSERT ... SELECT in the server. The DELETE is the purge's per-agency "
        "statement on the default partition's day; the drop is `ReadPartitions.drop_older_than` on the oldest "
        "partitioned day; its time grows with the reads only through the exact count the deletion report gives. "
        "A dropped partition's files are unlinked at commit; the DELETE's rows are dead until VACUUM. The "
        "write-ahead log figure is the server's, so it is the statement's own only on a quiet server. See "
        "docs/governance/postgres-partitions.md.", ""])


def run_read_expiry_bench(args) -> int:
    url = args.pg_url or os.environ.get("RTCC_TEST_PG_URL", LOCAL_PG)
    figures = run_bench(url, args.reads_per_day, args.days)
    doc = section(figures)
    print(doc)
    replace_section(Path(args.output), SECTION_TITLE, doc)
    return 0

