"""Plate reads in daily partitions on PostgreSQL: made ahead, dropped whole, the default partition, idempotent ingest."""

from __future__ import annotations

import threading
import time as wall
from datetime import UTC, datetime, timedelta

import pytest
from alembic import command
from fastapi.testclient import TestClient
from sqlalchemy import text

from openrtcc.adapters.db.engine import alembic_config
from openrtcc.adapters.db.read_partitions import ReadPartitions, day_partition_name
from openrtcc.read_partition_wiring import DAYS_AHEAD, keep_partitions_ahead
from tests.plate_reads import new_source, post_reads, read_body

POSTGRES = pytest.mark.parametrize("backend", ["postgres"])
DAY = timedelta(days=1)
WAITING_FOR_A_LOCK = ("SELECT 1 FROM pg_locks WHERE NOT granted "
                      "AND database = (SELECT oid FROM pg_database WHERE datname = current_database())")


def midnight(at: datetime) -> datetime:
    return datetime(at.year, at.month, at.day, tzinfo=UTC)


def sql(hub, query: str, **params):
    with hub.extras["engine"].connect() as conn:
        return list(conn.execute(text(query), params))


def partitions(hub) -> dict[str, tuple[datetime, datetime]]:
    with hub.extras["engine"].connect() as conn:
        return {p.name: (p.lower, p.upper) for p in ReadPartitions(conn).partitions()}


def partition_of(hub, read_id: str) -> str:
    return sql(hub, "SELECT tableoid::regclass::text AS part FROM plate_read WHERE id = :id", id=read_id)[0].part


def quiet_day(hub, clock) -> datetime:
    """Noon of a day a month past every partition made so far (the migration made some by the wall clock)."""
    last = max((upper for _, upper in partitions(hub).values()), default=midnight(clock.now()))
    return max(last, midnight(clock.now())) + 30 * DAY + timedelta(hours=12)


def stored_ids(results) -> dict[str, str]:
    return {a["read_id"]: a["id"] for a in results.json()["results"]}


@pytest.mark.parametrize("backend", ["sqlite"])
def test_sqlite_keeps_one_plain_table_and_no_upkeep(hub, clock):
    with hub.extras["engine"].connect() as conn:
        rp = ReadPartitions(conn)
        assert not rp.is_partitioned()
        assert rp.ensure_ahead(clock.now()) == [] and rp.partitions() == [] and rp.in_default() == 0
        dropped = rp.drop_older_than(clock.now())
        assert dropped.names == [] and dropped.reads == 0
    assert "read-partitions" not in {getattr(t, "name", "") for t in hub.extras["background"]}
    assert keep_partitions_ahead(hub) == []


@POSTGRES
def test_the_migration_partitions_reads_by_day_with_a_default_partition(hub):
    strategy = sql(hub, "SELECT partstrat, a.attname FROM pg_partitioned_table p JOIN pg_attribute a "
                        "ON a.attrelid = p.partrelid AND a.attnum = p.partattrs[0] "
                        "WHERE partrelid = 'plate_read'::regclass")
    assert [(r.partstrat, r.attname) for r in strategy] == [("r", "captured_at")]
    assert sql(hub, "SELECT pg_get_expr(c.relpartbound, c.oid) AS b FROM pg_class c "
                    "WHERE relname = 'plate_read_default'")[0].b == "DEFAULT"
    keys = {r.conname: r.definition for r in sql(
        hub, "SELECT conname, pg_get_constraintdef(oid) AS definition FROM pg_constraint "
             "WHERE conrelid = 'plate_read'::regclass AND contype IN ('p', 'u')")}
    assert keys == {"pk_plate_read": "PRIMARY KEY (seq, captured_at)", "uq_plate_read_id": "UNIQUE (id, captured_at)"}
    assert "(source_id, read_key, captured_at)" in sql(
        hub, "SELECT indexdef FROM pg_indexes WHERE indexname = 'uq_plate_read_source_key'")[0].indexdef
    # No foreign key may point at a partitioned table's non-key column: the purge deletes alerts first.
    assert sql(hub, "SELECT conname FROM pg_constraint WHERE confrelid = 'plate_read'::regclass") == []
    # The days from the migration's today (the session's template; a run may cross midnight) to 3 ahead.
    today, made = midnight(sql(hub, "SELECT now() AS now")[0].now), partitions(hub)
    first = today if day_partition_name(today - DAY) not in made else today - DAY
    for day in (first + i * DAY for i in range(DAYS_AHEAD + 1)):
        assert made[day_partition_name(day)] == (day, day + DAY)


@POSTGRES
def test_upkeep_makes_the_days_ahead_once_and_each_read_lands_in_its_day(world, anon, hub, clock):
    clock.t = quiet_day(hub, clock)
    key, _ = new_source(world)
    made = keep_partitions_ahead(hub)
    days = [midnight(clock.now()) + i * DAY for i in range(-1, DAYS_AHEAD + 1)]
    assert made == [day_partition_name(d) for d in days]
    assert all(partitions(hub)[day_partition_name(d)] == (d, d + DAY) for d in days)
    assert keep_partitions_ahead(hub) == []  # idempotent: nothing made, nothing audited
    with hub.uow() as uow:
        audits = [r for r in uow.audit.iter_records() if r.action == "reads.partitions_create"]
    assert [r.details["partitions"] for r in audits] == [made]

    r = post_reads(anon, key, [read_body("today", "ABC123", clock.now() - timedelta(minutes=5)),
                               read_body("last-night", "ABC124", midnight(clock.now()) - timedelta(minutes=2)),
                               read_body("backfill", "ABC125", clock.now() - timedelta(days=400))])
    assert r.status_code == 200, r.text
    ids = stored_ids(r)
    assert partition_of(hub, ids["today"]) == day_partition_name(days[1])
    assert partition_of(hub, ids["last-night"]) == day_partition_name(days[0])
    assert partition_of(hub, ids["backfill"]) == "plate_read_default"  # no day of its own: stored all the same


@POSTGRES
def test_a_day_whose_reads_came_before_its_partition_gets_them_moved_in(world, anon, hub, clock):
    clock.t = quiet_day(hub, clock)
    key, _ = new_source(world)
    batch = [read_body(f"r{i}", f"QRS{i}00", clock.now() - timedelta(minutes=i)) for i in range(3)]
    r = post_reads(anon, key, batch)
    assert r.status_code == 200, r.text
    ids = stored_ids(r)
    assert {partition_of(hub, i) for i in ids.values()} == {"plate_read_default"}

    made = keep_partitions_ahead(hub)
    today = day_partition_name(midnight(clock.now()))
    assert today in made
    assert {partition_of(hub, i) for i in ids.values()} == {today}
    with hub.extras["engine"].connect() as conn:
        assert ReadPartitions(conn).in_default() == 0
    again = post_reads(anon, key, batch)  # the source retries: the moved reads are found, not stored twice
    assert [a["status"] for a in again.json()["results"]] == ["duplicate"] * 3
    assert stored_ids(again) == ids
    assert sql(hub, "SELECT count(*) AS n FROM plate_read")[0].n == 3


@POSTGRES
def test_the_purge_drops_whole_expired_days_and_leaves_default_rows_to_the_delete(world, anon, hub, clock):
    clock.t = quiet_day(hub, clock)
    key, _ = new_source(world)
    keep_partitions_ahead(hub)
    day0 = midnight(clock.now())
    r = post_reads(anon, key, [read_body("yesterday", "AAA111", day0 - timedelta(hours=3)),
                               read_body("today", "AAA222", clock.now() - timedelta(hours=1)),
                               read_body("backfill", "AAA333", day0 - timedelta(days=45))])
    assert r.status_code == 200, r.text
    clock.advance(days=31, hours=6)
    cutoff = clock.now() - timedelta(days=30)  # day0 + 1 day 18:00: yesterday and today are whole days past it

    due = sorted((lower, name) for name, (lower, upper) in partitions(hub).items() if upper <= cutoff)
    with hub.uow() as uow:
        dropped = uow.read_partitions.drop_older_than(cutoff)
        uow.commit_bookkeeping()
    gone = [day_partition_name(day0 - DAY), day_partition_name(day0)]
    assert dropped.names == [name for _, name in due] and dropped.names[-2:] == gone  # with the migration's days
    assert dropped.reads == 2 and dropped.busy == []
    for name in gone:
        assert sql(hub, "SELECT to_regclass(:n) AS reg", n=name)[0].reg is None  # the table itself is gone
    inherits = {r.name for r in sql(hub, "SELECT inhrelid::regclass::text AS name FROM pg_inherits "
                                         "WHERE inhparent = 'plate_read'::regclass")}
    assert not inherits & set(gone)
    assert day_partition_name(day0 + DAY) in inherits  # ends after the cutoff: kept whole
    left = sql(hub, "SELECT read_key, tableoid::regclass::text AS part FROM plate_read")
    assert [(r.read_key, r.part) for r in left] == [("backfill", "plate_read_default")]

    # What the drop leaves, the purge's per-agency DELETE takes: the same statement on the partitioned table.
    with hub.extras["engine"].begin() as conn:
        conn.execute(text("DELETE FROM plate_read WHERE agency_id = :a AND captured_at < :c"),
                     {"a": world.agency().id, "c": cutoff})
    assert sql(hub, "SELECT count(*) AS n FROM plate_read")[0].n == 0
    with hub.uow() as uow:
        assert uow.read_partitions.drop_older_than(cutoff).names == []  # a second run finds nothing to drop


@POSTGRES
def test_a_busy_table_leaves_the_drop_to_the_next_run_and_the_transaction_usable(world, anon, hub, clock):
    clock.t = quiet_day(hub, clock)
    key, _ = new_source(world)
    keep_partitions_ahead(hub)
    assert post_reads(anon, key, [read_body("r1", "BUSY01", clock.now())]).status_code == 200
    clock.advance(days=32)
    cutoff = clock.now() - timedelta(days=30)
    engine = hub.extras["engine"]
    with engine.connect() as reader:
        reader.begin()
        reader.execute(text("SELECT count(*) FROM plate_read"))  # a search in progress holds the table
        with engine.connect() as conn, conn.begin():
            rp = ReadPartitions(conn, lock_timeout_ms=200)
            dropped = rp.drop_older_than(cutoff)
            assert dropped.names == [] and dropped.reads == 0
            assert dropped.busy == [name for name, (_, upper) in sorted(partitions(hub).items()) if upper <= cutoff]
            assert day_partition_name(midnight(clock.now() - timedelta(days=32))) in dropped.busy
            assert conn.execute(text("SHOW lock_timeout")).scalar() == "0"  # nothing of the attempt stays
            assert conn.execute(text("SELECT count(*) FROM plate_read")).scalar() == 1  # still usable
        reader.rollback()
    with engine.connect() as conn, conn.begin():
        assert ReadPartitions(conn, lock_timeout_ms=200).drop_older_than(cutoff).reads == 1


@POSTGRES
def test_upkeep_on_a_busy_table_makes_nothing_and_the_next_round_makes_it_all(hub, clock):
    clock.t = quiet_day(hub, clock)
    engine = hub.extras["engine"]
    with engine.connect() as reader:
        reader.begin()
        reader.execute(text("SELECT count(*) FROM plate_read"))
        with engine.connect() as conn, conn.begin():
            assert ReadPartitions(conn, lock_timeout_ms=200).ensure_ahead(clock.now()) == []
        reader.rollback()
    assert day_partition_name(midnight(clock.now())) not in partitions(hub)
    assert len(keep_partitions_ahead(hub)) == DAYS_AHEAD + 2


@POSTGRES
def test_two_hub_processes_making_the_same_day_do_not_trip_over_each_other(hub, clock):
    clock.t = quiet_day(hub, clock)
    engine, second = hub.extras["engine"], []
    with engine.connect() as first, first.begin():
        made = ReadPartitions(first).ensure_ahead(clock.now())
        assert len(made) == DAYS_AHEAD + 2

        def other_process():
            with engine.connect() as conn, conn.begin():
                second.append(ReadPartitions(conn, lock_timeout_ms=30_000).ensure_ahead(clock.now()))

        thread = threading.Thread(target=other_process)
        thread.start()  # it sees no partitions yet (not committed) and queues for the table lock
        deadline = wall.monotonic() + 20
        while not sql(hub, WAITING_FOR_A_LOCK) and wall.monotonic() < deadline:
            wall.sleep(0.05)
    thread.join()
    assert second == [[]]  # it found the days made once it had the lock, and made none twice
    assert sorted(partitions(hub))[-len(made):] == made


@POSTGRES
def test_a_read_id_sent_again_with_another_capture_time_is_still_a_conflict(world, anon, hub, clock):
    clock.t = quiet_day(hub, clock)
    key, _ = new_source(world)
    keep_partitions_ahead(hub)
    first = read_body("cam-7", "XYZ789", clock.now() - timedelta(minutes=1))
    assert post_reads(anon, key, [first]).status_code == 200
    # The unique index now includes captured_at, and these two would sit in different partitions.
    moved = {**first, "captured_at": (clock.now() - timedelta(days=1, minutes=1)).isoformat()}
    r = post_reads(anon, key, [read_body("cam-8", "XYZ790", clock.now()), moved])
    assert r.status_code == 409 and r.json()["error"] == "read_id_conflict", r.text
    assert sql(hub, "SELECT count(*) AS n FROM plate_read")[0].n == 1


@POSTGRES
def test_two_sends_of_one_batch_at_once_store_it_once(world, app, hub, clock):
    clock.t = quiet_day(hub, clock)
    key, _ = new_source(world)
    keep_partitions_ahead(hub)
    batch = [read_body(f"k{i}", f"RACE{i}", clock.now() - timedelta(seconds=i)) for i in range(20)]
    start, answers = threading.Barrier(2), []

    def send():
        client = TestClient(app)
        start.wait()
        answers.append(post_reads(client, key, batch))

    threads = [threading.Thread(target=send) for _ in range(2)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    assert [a.status_code for a in answers] == [200, 200], [a.text for a in answers]
    assert sorted(a.json()["stored"] for a in answers) == [0, 20]
    assert sql(hub, "SELECT count(*) AS n FROM plate_read")[0].n == 20


@POSTGRES
def test_the_serving_hub_makes_its_partitions_when_it_starts(world, app, hub, clock):
    clock.t = quiet_day(hub, clock)
    today = day_partition_name(midnight(clock.now()))
    assert today not in partitions(hub)
    with TestClient(app):  # the lifespan starts the background tasks; the upkeep runs at once, then hourly
        deadline = wall.monotonic() + 20
        while today not in partitions(hub) and wall.monotonic() < deadline:
            wall.sleep(0.1)
    assert today in partitions(hub)


@POSTGRES
def test_downgrade_restores_the_plain_table_with_every_read_and_upgrade_partitions_it_again(
        world, anon, hub, clock, database_url):
    clock.t = quiet_day(hub, clock)
    key, _ = new_source(world)
    keep_partitions_ahead(hub)
    r = post_reads(anon, key, [read_body("a", "DOWN01", clock.now()),
                               read_body("b", "DOWN02", clock.now() - timedelta(days=90))])
    assert r.status_code == 200, r.text
    hub.extras["engine"].dispose()
    cfg = alembic_config(database_url)

    command.downgrade(cfg, "0006")
    assert sql(hub, "SELECT count(*) AS n FROM pg_partitioned_table")[0].n == 0
    assert sorted(r.read_key for r in sql(hub, "SELECT read_key FROM plate_read")) == ["a", "b"]
    assert [r.conname for r in sql(hub, "SELECT conname FROM pg_constraint "
                                        "WHERE confrelid = 'plate_read'::regclass")] == ["fk_alert_read_id_plate_read"]
    assert sql(hub, "SELECT count(*) AS n FROM pg_class WHERE relname LIKE 'plate_read_p%'")[0].n == 0
    seq_before = sql(hub, "SELECT max(seq) AS s FROM plate_read")[0].s

    command.upgrade(cfg, "head")
    assert sorted(r.read_key for r in sql(hub, "SELECT read_key FROM plate_read")) == ["a", "b"]
    with hub.extras["engine"].connect() as conn:
        assert ReadPartitions(conn).is_partitioned()
    assert post_reads(anon, key, [read_body("c", "DOWN03", clock.now())]).status_code == 200
    assert sql(hub, "SELECT seq FROM plate_read WHERE read_key = 'c'")[0].seq > seq_before  # the sequence goes on
