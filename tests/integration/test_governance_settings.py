"""Agency governance settings on both backends: staff read them, only the agency's administrator changes them,
every bad value is refused with its own code and audited with nothing saved, agencies are kept apart, and the
operator's `rtcc governance show|set` does the same from the command line."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from openrtcc.adapters.db.tables import audit_log
from openrtcc.cli import main
from tests.conftest import HARBOR

URL = "/api/agency/governance"


def audit_of(hub, action: str) -> list:
    with hub.uow() as uow:
        rows = uow.conn.execute(select(audit_log.c.outcome, audit_log.c.actor_id, audit_log.c.details)
                                .where(audit_log.c.action == action).order_by(audit_log.c.seq)).all()
        uow.rollback()
    return rows


def test_defaults_then_an_administrators_change_saved_and_audited(world, hub):
    admin = world.admin()
    r = admin.get(URL)
    assert r.status_code == 200, r.text
    g = r.json()
    assert (g["kind"], g["retention_days"], g["search_camera_limit"], g["repeat_search_threshold"],
            g["repeat_search_window_hours"], g["policy_text"]) == ("local", 30, 50, 3, 168, "")
    assert g["prohibited_purposes"] == ["immigration_enforcement", "protest_activity", "reproductive_health"]
    assert len(g["purposes"]) == 12 and {p["code"] for p in g["purposes"] if p["prohibited"]} == set(
        g["prohibited_purposes"])
    r = admin.put(URL, json={"retention_days": 21, "prohibited_purposes": ["protest_activity", "civil_traffic"],
                             "search_camera_limit": 25, "repeat_search_window_hours": 48, "kind": "county",
                             "policy_text": "We keep reads 21 days."})
    assert r.status_code == 200, r.text
    g = r.json()
    assert (g["kind"], g["retention_days"], g["search_camera_limit"], g["repeat_search_threshold"],
            g["repeat_search_window_hours"]) == ("county", 21, 25, 3, 48)
    assert g["prohibited_purposes"] == ["civil_traffic", "protest_activity"]
    assert world.staff("supervisor").get(URL).json()["retention_days"] == 21  # saved, and readable by staff
    (outcome, actor, details), = audit_of(hub, "governance.update")
    assert outcome == "success" and actor is not None
    assert details["changed"]["retention_days"] == [30, 21] and details["changed"]["kind"] == ["local", "county"]
    assert details["changed"]["prohibited_purposes"] == {"added": ["civil_traffic"],
                                                         "removed": ["immigration_enforcement", "reproductive_health"]}
    assert "repeat_search_threshold" not in details["changed"] and len(details["changed"]["policy_text_sha256"]) == 64
    assert len(audit_of(hub, "governance.read")) >= 2


BAD = [
    ({"retention_days": 31}, 422, "bad_retention"),
    ({"retention_days": 0}, 422, "bad_retention"),
    ({"prohibited_purposes": ["protest_activity", "looking_around"]}, 422, "unknown_purpose"),
    ({"kind": "galactic"}, 422, "bad_kind"),
    ({"search_camera_limit": 0}, 422, "bad_limit"),
    ({"policy_text": "fine\x00then a NUL"}, 422, "bad_policy_text"),
    ({"repeat_search_threshold": 1}, 422, "bad_limit"),
    ({"repeat_search_window_hours": 0}, 422, "bad_limit"),
    ({"repeat_search_window_hours": 24 * 91}, 422, "bad_limit"),
    ({}, 422, "no_changes"),
    ({"retention_days": 20, "retention_forever": True}, 422, "invalid_input"),
    ({"policy_text": "x" * 20_001}, 422, "invalid_input"),
    ({"retention_days": "thirty"}, 422, "invalid_input"),
    ({"repeat_search_window_hours": 10**30}, 422, "invalid_input"),
    ({"prohibited_purposes": ["x" * 5000]}, 422, "invalid_input"),
]


def test_bad_values_are_refused_each_with_its_code_and_nothing_is_saved(world, hub):
    admin = world.admin()
    before = admin.get(URL).json()
    for body, status, code in BAD:
        r = admin.put(URL, json=body)
        assert (r.status_code, r.json()["error"]) == (status, code), (body, r.text)
    assert admin.get(URL).json() == before
    refused = audit_of(hub, "governance.update")
    assert [d["code"] for o, _, d in refused if o == "failed"] == [c for _, _, c in BAD if c != "invalid_input"]
    assert {d.get("field") for o, _, d in refused} >= {"retention_days", "prohibited_purposes", "kind"}


@pytest.mark.parametrize("backend", ["sqlite"])  # permissions: no backend-specific code
def test_only_the_agencys_administrator_changes_and_only_its_own_agency(world, hub):
    for role in ("supervisor", "auditor", "analyst"):
        s = world.staff(role)
        assert s.get(URL).status_code == 200
        r = s.put(URL, json={"retention_days": 7})
        assert (r.status_code, r.json()["error"]) == (403, "permission_denied"), role
    owner = world.owner()
    assert owner.get(URL).status_code == 403 and owner.put(URL, json={"retention_days": 7}).status_code == 403
    world.agency("harbor", HARBOR)
    harbor = world.admin("harbor")
    assert harbor.put(URL, json={"retention_days": 5}).json()["retention_days"] == 5
    assert world.admin().get(URL).json()["retention_days"] == 30  # Lakeport's own settings untouched
    denied = [r for r in audit_of(hub, "http.refused") if r.details.get("code") == "permission_denied"]
    assert len(denied) >= 3


@pytest.mark.parametrize("backend", ["sqlite"])  # permissions: no backend-specific code
def test_settings_refuse_a_request_without_a_session(anon, world):
    world.agency()
    assert anon.get(URL).status_code == 401
    assert anon.put(URL, json={"retention_days": 7}).status_code == 401


@pytest.mark.parametrize("backend", ["sqlite"])  # the command is the service (tested on both) plus printing
def test_the_cli_shows_and_sets(world, settings, monkeypatch, capsys, tmp_path, hub):
    world.agency()
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.resolved_database_url)
    assert main(["governance", "show", "--agency", "lakeport"]) == 0
    out = capsys.readouterr().out
    assert "retention: 30 days" in out and "protest_activity" in out
    policy = tmp_path / "policy.txt"
    policy.write_text("Plate reads are deleted after 14 days.\n", encoding="utf-8")
    assert main(["governance", "set", "--agency", "lakeport", "--retention-days", "14", "--allow", "protest_activity",
                 "--prohibit", "civil_traffic", "--policy-file", str(policy)]) == 0
    out = capsys.readouterr().out
    assert "retention: 14 days" in out and "civil_traffic" in out and "protest_activity" not in out
    assert "Plate reads are deleted after 14 days." in out
    assert main(["governance", "set", "--agency", "lakeport", "--retention-days", "45"]) == 1
    assert "1 to 30 days" in capsys.readouterr().err
    assert main(["governance", "set", "--agency", "lakeport", "--repeat-search-window-hours", str(10**30)]) == 1
    assert "1 hour to 90 days" in capsys.readouterr().err
    assert main(["governance", "show", "--agency", "nowhere"]) == 1
    assert "no agency 'nowhere'" in capsys.readouterr().err
    assert main(["governance", "set", "--agency", "lakeport", "--policy-file", str(tmp_path / "missing.txt")]) == 1
    assert "cannot read" in capsys.readouterr().err
    updates = audit_of(hub, "governance.update")
    assert [(o, a) for o, a, _ in updates] == [("success", None), ("failed", None), ("failed", None)]
