"""Hot-list import on both backends: all or nothing, the index swapped after commit, the stale alarm with
the clock jumped, and the back-check of new entries against stored reads."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select

from openrtcc.adapters.db.tables import alert, audit_log, hot_list_entry
from openrtcc.domain.errors import InvalidInput, NotFound
from openrtcc.domain.reads import ReadBatch
from openrtcc.services.hotlists import (
    get_hot_list,
    hotlist_index,
    import_hot_list,
    keep_hot_lists,
    list_hot_lists,
    raise_stale_alarms,
    system_actor,
)
from openrtcc.services.ingest import ingest_reads
from openrtcc.services.read_sources import create_source_for_agency

V1 = b"LIC|LIS|VMA|VCO|NIC\nABC1234|CA|TOYT|BLK|V000000001\nMTB4417|MT|HOND|RED|V000000002\n"
V2 = b"LIC|LIS|VMA|VCO|NIC\nXYZ9876|CA|FORD|WHI|V000000003\nMTB4417|MT|HOND|RED|V000000002\n"
CORRUPT = b"LIC|LIS|VMA|VCO|NIC\nXYZ9876|CA|FORD|WHI|V000000003\nQQQ111|ZZ|FORD|WHI|V000000004\n"


def plates(hub, agency_id: str, plate: str, state: str | None) -> list[tuple[str, str]]:
    return [(h.entry.plate, h.kind.value) for h in hotlist_index(hub).match(agency_id, plate, state)]


def stored_plates(hub, list_id: str) -> list[str]:
    with hub.extras["engine"].connect() as conn:
        return sorted(conn.execute(select(hot_list_entry.c.plate).where(hot_list_entry.c.list_id == list_id)).scalars())


def test_import_is_all_or_nothing_and_the_index_follows_commits(hub, world):
    ag = world.agency()
    cli = system_actor(ag.id, "test-import")
    first = import_hot_list(hub, cli, name="NCIC daily", fmt="ncic", data=V1)
    assert (first.list.version, first.list.entry_count, first.added, first.removed) == (1, 2, 2, 0)
    assert plates(hub, ag.id, "ABC1234", "CA") == [("ABC1234", "exact")]
    assert plates(hub, ag.id, "MTB4417", "CO") == []  # the Montana record does not stop a Colorado car

    with pytest.raises(InvalidInput) as err:
        import_hot_list(hub, cli, name="NCIC daily", fmt="ncic", data=CORRUPT)
    assert err.value.details == {"line": 3, "field": "LIS"}
    assert "line 3" in err.value.message
    assert plates(hub, ag.id, "ABC1234", "CA") == [("ABC1234", "exact")]  # the previous list is still in force
    assert plates(hub, ag.id, "XYZ9876", "CA") == []
    assert stored_plates(hub, first.list.id) == ["ABC1234", "MTB4417"]
    assert get_hot_list(hub, cli, first.list.id).version == 1

    second = import_hot_list(hub, cli, name="NCIC daily", fmt="ncic", data=V2)
    assert (second.list.version, second.added, second.removed) == (2, 1, 1)
    assert plates(hub, ag.id, "ABC1234", "CA") == []
    assert plates(hub, ag.id, "XYZ9876", "CA") == [("XYZ9876", "exact")]
    assert stored_plates(hub, first.list.id) == ["MTB4417", "XYZ9876"]

    with hub.extras["engine"].connect() as conn:
        rows = conn.execute(select(audit_log.c.action, audit_log.c.actor_id, audit_log.c.details)
                            .where(audit_log.c.action == "hotlist.import")).all()
    assert [(r.details["version"], r.details["entries"], r.details["added"]) for r in rows] == [(1, 2, 2), (2, 2, 1)]
    assert all(r.actor_id == "system:test-import" for r in rows)
    assert not any(p in str(r.details) for r in rows for p in ("ABC1234", "MTB4417", "XYZ9876"))


def test_a_fresh_index_loads_from_the_database(hub, world, settings, clock):
    from openrtcc.bootstrap import build_hub

    ag = world.agency()
    import_hot_list(hub, system_actor(ag.id, "t"), name="feed", fmt="ncic", data=V1)
    other = build_hub(settings, clock=clock, run_migrations=False, fast_hashing=True)
    try:
        with other.uow():  # as ingest does: the first match comes inside an open unit of work
            assert plates(other, ag.id, "A8C1234", "CA") == [("ABC1234", "lookalike")]
        import_hot_list(hub, system_actor(ag.id, "t"), name="feed", fmt="ncic", data=V2)
        assert hotlist_index(other).sync() == [ag.id]  # an import made by another process is picked up
        assert plates(other, ag.id, "XYZ9876", "CA") == [("XYZ9876", "exact")]
    finally:
        other.extras["engine"].dispose()


def test_lists_are_agency_scoped(hub, world):
    from tests.conftest import HARBOR

    lake, harbor = world.agency(), world.agency("harbor", HARBOR)
    result = import_hot_list(hub, system_actor(lake.id, "t"), name="feed", fmt="ncic", data=V1)
    with pytest.raises(NotFound):
        get_hot_list(hub, system_actor(harbor.id, "t"), result.list.id)
    assert list_hot_lists(hub, system_actor(harbor.id, "t")) == []
    assert plates(hub, harbor.id, "ABC1234", "CA") == []


def test_stale_alarm_raised_once_and_cleared_by_the_next_import(hub, world, clock):
    ag = world.agency()
    cli = system_actor(ag.id, "t")
    feed = import_hot_list(hub, cli, name="feed", fmt="ncic", data=V1, stale_after_hours=6).list
    import_hot_list(hub, cli, name="not a feed", fmt="ncic", data=V1)
    clock.advance(hours=5, minutes=59)
    assert raise_stale_alarms(hub) == []
    clock.advance(minutes=1)
    keep_hot_lists(hub)  # the background round: alarms, then the index sync
    view = get_hot_list(hub, cli, feed.id)
    assert view.stale_alarm_at == clock.now()
    clock.advance(hours=3)
    assert raise_stale_alarms(hub) == []  # raised once, not every round
    with hub.extras["engine"].connect() as conn:
        alarms = conn.execute(select(audit_log.c.target, audit_log.c.actor_id)
                              .where(audit_log.c.action == "hotlist.stale_alarm")).all()
    assert alarms == [(f"hot_list:{feed.id}", "system:hotlist-stale-check")]
    again = import_hot_list(hub, cli, name="feed", fmt="ncic", data=V1)
    assert again.list.stale_alarm_at is None and get_hot_list(hub, cli, feed.id).stale_alarm_at is None
    assert again.list.stale_after_hours == 6  # the feed keeps its limit


def _read(read_id: str, plate: str, state: str | None, at) -> dict:
    return {"read_id": read_id, "plate": plate, "state": state, "confidence": 0.9,
            "captured_at": at.isoformat()}


def test_back_check_alerts_on_reads_of_the_window_for_new_entries_only(hub, world, clock):
    ag = world.agency()
    source, _key = create_source_for_agency(hub, ag.slug, "gate camera", "lpr_camera", "CA")
    now = clock.now()
    batch = ReadBatch(version=1, reads=[
        _read("r1", "XYZ 9876", "CA", now - timedelta(days=2)),  # inside the window
        _read("r2", "MTB4417", "MT", now - timedelta(days=3)),
        _read("r3", "XYZ9876", "NV", now - timedelta(days=1)),  # another state's plate
    ])
    ingest_reads(hub, source, batch)
    cli = system_actor(ag.id, "t")
    first = import_hot_list(hub, cli, name="feed", fmt="ncic", data=V1)
    assert first.back_check.alerts == 1  # MTB4417 (new in version 1) seen in MT
    clock.advance(days=29, hours=1)  # every read is now over 30 days old: out of the window
    second = import_hot_list(hub, cli, name="feed", fmt="ncic", data=V2)
    assert second.back_check.alerts == 0 and second.back_check.reads_checked == 0
    clock.advance(days=-29, hours=-1)
    third = import_hot_list(hub, cli, name="feed2", fmt="ncic", data=V2)
    assert third.back_check.alerts == 2 and third.back_check.reads_checked == 3
    with hub.extras["engine"].connect() as conn:
        kinds = sorted(conn.execute(select(alert.c.match_kind)).scalars())
    assert kinds == ["exact", "exact", "exact"]  # MTB4417 on feed; XYZ9876 (CA) and MTB4417 on feed2
