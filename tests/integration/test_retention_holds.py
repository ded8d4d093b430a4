"""Legal holds, case-read locks and purge reports through the API and `rtcc retention`: each refusal is a clear
4xx with a code and an audit record, nothing half-written, and no agency sees another's holds or report."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from openrtcc.adapters.db.tables import audit_log, case_read, legal_hold, plate_read, retention_run
from openrtcc.cli import main
from tests.conftest import HARBOR
from tests.plate_reads import new_source, post_reads, read_body


def audited(hub, action: str) -> list[tuple[str, str | None]]:
    with hub.extras["engine"].connect() as conn:
        rows = conn.execute(select(audit_log.c.outcome, audit_log.c.details).where(audit_log.c.action == action)
                            .order_by(audit_log.c.seq)).all()
    return [(r.outcome, r.details.get("reason")) for r in rows]


def table_rows(hub, table) -> list:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(table)).all()


def test_holds_and_locks_refuse_bad_and_hostile_requests(hub, world, anon, clock):
    world.agency("harbor", jurisdiction=HARBOR)
    key, _ = new_source(world)
    assert post_reads(anon, key, [read_body("r-1", "ABC123", clock.now())]).status_code == 200
    read_id = table_rows(hub, plate_read)[0].id
    sup, officer = world.staff("supervisor"), world.staff("officer")
    other = world.staff("supervisor", "harbor")

    r = officer.post("/api/retention/holds", json={"case_number": "2026-7", "reason": "court order"})
    assert (r.status_code, r.json()["error"]) == (403, "permission_denied")
    for body, code in (({"case_number": "../etc", "reason": "court order"}, "bad_case_number"),
                       ({"case_number": "2026-7", "reason": "  x "}, "bad_reason")):
        r = sup.post("/api/retention/holds", json=body)
        assert (r.status_code, r.json()["error"]) == (422, code), r.text
    assert sup.post("/api/retention/holds", json={"case_number": "2026-7", "reason": "x", "extra": 1}).status_code == 422
    r = sup.post("/api/retention/cases/2026-7/reads", json={"read_id": read_id})
    assert (r.status_code, r.json()["error"]) == (409, "no_legal_hold")
    assert table_rows(hub, legal_hold) == [] and table_rows(hub, case_read) == []

    hold = sup.post("/api/retention/holds", json={"case_number": "2026-7", "reason": "court order 7"}).json()
    r = sup.post("/api/retention/holds", json={"case_number": "2026-7", "reason": "again"})
    assert (r.status_code, r.json()["error"]) == (409, "already_held")
    assert sup.post("/api/retention/cases/2026-7/reads", json={"read_id": read_id}).status_code == 201
    r = sup.post("/api/retention/cases/2026-7/reads", json={"read_id": read_id})
    assert (r.status_code, r.json()["error"]) == (409, "already_locked")
    # Another agency's supervisor: the read, the case and the hold do not exist for them.
    assert other.post("/api/retention/holds", json={"case_number": "2026-7", "reason": "mine"}).status_code == 201
    r = other.post("/api/retention/cases/2026-7/reads", json={"read_id": read_id})
    assert (r.status_code, r.json()["error"]) == (404, "no_read")
    assert other.get("/api/retention/cases/2026-7/reads").json() == []
    assert other.post(f"/api/retention/holds/{hold['id']}/release").status_code == 404
    assert [h["reason"] for h in other.get("/api/retention/holds").json()] == ["mine"]
    locked = sup.get("/api/retention/cases/2026-7/reads").json()
    assert [(c["read_id"], c["plate"]) for c in locked] == [(read_id, "ABC123")]

    slashed = sup.post("/api/retention/holds", json={"case_number": "2026/0042", "reason": "court order 42"})
    assert slashed.status_code == 201
    assert sup.post("/api/retention/cases/2026/0042/reads", json={"read_id": read_id}).status_code == 201
    assert [c["case_number"] for c in sup.get("/api/retention/cases/2026/0042/reads").json()] == ["2026/0042"]
    assert sup.get("/api/retention/cases/2026/../x/reads").status_code in (404, 422)
    assert sup.post(f"/api/retention/holds/{hold['id']}/release").json()["active"] is False
    r = sup.post(f"/api/retention/holds/{hold['id']}/release")
    assert (r.status_code, r.json()["error"]) == (409, "already_released")
    assert audited(hub, "retention.hold_place") == [
        ("denied", "permission_denied"), ("denied", "bad_case_number"), ("denied", "bad_reason"),
        ("success", "court order 7"), ("denied", "already_held"), ("success", "mine"), ("success", "court order 42")]
    assert [o for o, _ in audited(hub, "retention.read_lock")] == ["denied", "success", "denied", "denied", "success"]
    assert audited(hub, "retention.hold_release")[-1] == ("denied", "already_released")


@pytest.mark.parametrize("backend", ["sqlite"])  # permissions and scoping; storage is covered in the purge tests
def test_purge_reports_are_for_admins_and_auditors_and_show_only_their_agency(hub, world, clock):
    world.agency("harbor", jurisdiction=HARBOR)
    lakeport_id = world.agency().id
    analyst = world.staff("analyst")
    r = analyst.post("/api/retention/run", json={})
    assert (r.status_code, r.json()["error"]) == (403, "permission_denied")
    assert audited(hub, "retention.purge") == [("denied", "permission_denied")]
    assert analyst.get("/api/retention/runs").status_code == 403
    harbor_admin = world.admin("harbor")
    ran = harbor_admin.post("/api/retention/run", json={"dry_run": False})
    assert ran.status_code == 200 and ran.json()["outcome"] == "done"
    auditor = world.staff("auditor", "harbor")
    for doc in (ran.json(), auditor.get("/api/retention/runs").json()[0],
                auditor.get(f"/api/retention/runs/{ran.json()['id']}").json()):
        assert [a["agency_id"] for a in doc["report"]["agencies"]] == [world.agency("harbor").id]
        assert lakeport_id not in str(doc)
    assert auditor.get("/api/retention/runs/nope").status_code == 404
    assert world.admin().get("/api/retention/runs?limit=0").status_code == 422


@pytest.mark.parametrize("backend", ["sqlite"])  # the command's own behaviour
def test_the_cli_places_lists_releases_holds_and_runs_the_purge(settings, hub, world, monkeypatch, capsys):
    world.agency()
    sup = world.staff("supervisor")
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.resolved_database_url)
    base = ["retention", "hold"]
    assert main([*base, "place", "--agency", "lakeport", "--case", "2026-9", "--reason", "subpoena 9",
                 "--as", sup.email]) == 0
    assert "placed on case 2026-9" in capsys.readouterr().out
    assert main([*base, "place", "--agency", "lakeport", "--case", "2026-9", "--reason", "again",
                 "--as", sup.email]) == 1
    assert "already under a legal hold" in capsys.readouterr().err
    assert main([*base, "place", "--agency", "nowhere", "--case", "2026-9", "--reason", "x y z",
                 "--as", sup.email]) == 1
    assert "no agency 'nowhere'" in capsys.readouterr().err
    assert main([*base, "place", "--agency", "lakeport", "--case", "2026-10", "--reason", "x y z",
                 "--as", "stranger@elsewhere.test"]) == 1
    assert main([*base, "list", "--agency", "lakeport"]) == 0
    assert "2026-9" in capsys.readouterr().out
    assert main([*base, "release", "--agency", "lakeport", "--case", "2026-9", "--as", sup.email]) == 0
    assert main(["retention", "run", "--dry-run"]) == 0
    assert "dry run" in capsys.readouterr().out
    assert main(["retention", "run"]) == 0 and main(["retention", "report", "--last", "1"]) == 0
    assert ": done" in capsys.readouterr().out
    assert [r.released_at is not None for r in table_rows(hub, legal_hold)] == [True]


def test_the_served_hub_purges_on_its_schedule_and_one_purge_runs_at_a_time(hub, settings, clock, backend):
    from openrtcc.bootstrap import build_hub
    from openrtcc.domain.errors import Conflict
    from openrtcc.services.retention import run_purge

    (task,) = [t for t in hub.extras["background"] if getattr(t, "name", "") == "retention-purge"]
    assert task.interval_s == settings.retention_interval_s
    task.work()  # one scheduled round, as the served hub's thread runs it
    assert [(r.trigger, r.outcome) for r in table_rows(hub, retention_run)] == [("schedule", "done")]
    off = build_hub(settings.model_copy(update={"retention_interval_s": 0}), clock=clock, run_migrations=False,
                    fast_hashing=True)
    try:
        assert "retention-purge" not in [getattr(t, "name", "") for t in off.extras["background"]]
    finally:
        off.extras["engine"].dispose()
    # Another process's purge holds the database's purge lock (PostgreSQL) or its write lock (SQLite).
    with hub.uow() as other:
        assert other.retention.claim_purge()
        if backend == "postgres":
            clock.advance(hours=1)
            with pytest.raises(Conflict):
                run_purge(hub, "cli")
        other.rollback()
    clock.advance(hours=1)
    assert run_purge(hub, "cli").outcome == "done"
