"""Hot lists over HTTP and the command line: who may import, agency scope, named bad lines, custom entries."""

from __future__ import annotations

import pytest

from openrtcc.cli import main as rtcc
from openrtcc.services.hotlists import hotlist_index
from tests.conftest import HARBOR

NCIC = b"LIC,LIS,VMA,VCO\nABC1234,CA,TOYT,BLK\nMTB4417,MT,HOND,RED\n"
BAD = b"LIC,LIS,VMA,VCO\nXYZ9876,CA,FORD,WHI\nQQQ111,ZZ,FORD,WHI\n"


def upload(session, data: bytes, name: str = "NCIC daily", fmt: str = "ncic", **form):
    return session.post("/api/agency/hotlists/import", files={"file": ("list.csv", data, "text/csv")},
                        data={"name": name, "format": fmt, **form})


def test_import_permissions_scope_and_bad_lines(world, hub):
    admin, officer, analyst = world.admin(), world.staff("officer"), world.staff("analyst")
    assert upload(officer, NCIC).status_code == 403
    r = upload(admin, NCIC, stale_after_hours="24")
    assert r.status_code == 201, r.text
    body = r.json()
    assert (body["list"]["version"], body["list"]["entry_count"], body["added"]) == (1, 2, 2)
    list_id = body["list"]["id"]

    r = upload(admin, BAD)
    assert r.status_code == 422
    assert r.json()["details"] == {"line": 3, "field": "LIS"}
    assert "line 3" in r.json()["message"]
    assert [h.entry.plate for h in hotlist_index(hub).match(world.agency().id, "ABC1234", "CA")] == ["ABC1234"]

    lists = officer.get("/api/agency/hotlists").json()  # metadata only, for whoever sees alerts
    assert [(l["name"], l["entry_count"], l["stale_after_hours"], l["stale"]) for l in lists] == [
        ("NCIC daily", 2, 24, False)]
    assert analyst.get(f"/api/agency/hotlists/{list_id}").status_code == 200
    assert officer.get(f"/api/agency/hotlists/{list_id}/entries").status_code == 403
    assert len(admin.get(f"/api/agency/hotlists/{list_id}/entries").json()) == 2

    world.agency("harbor", HARBOR)
    harbor = world.admin("harbor")
    assert harbor.get(f"/api/agency/hotlists/{list_id}").status_code == 404
    assert harbor.get(f"/api/agency/hotlists/{list_id}/entries").status_code == 404
    assert harbor.get("/api/agency/hotlists").json() == []
    r = harbor.post(f"/api/agency/hotlists/{list_id}/entries", json={
        "plate": "AAA111", "reason": "x", "owner": "y", "expires_at": "2027-01-01"})
    assert r.status_code == 404
    assert world.staff("auditor").get("/api/agency/hotlists").status_code == 403


def test_custom_entries_by_hand(world, hub):
    admin = world.admin()
    custom = b"plate,state,reason,owner,expires_at\n7ABC123,CA,burglary suspect,det. Ruiz,2026-12-20\n"
    list_id = upload(admin, custom, name="Burglary watch", fmt="custom").json()["list"]["id"]
    entry = {"plate": "LKP*", "state": "", "reason": "partial from witness", "owner": "det. Ruiz",
             "expires_at": "2026-12-01"}
    r = admin.post(f"/api/agency/hotlists/{list_id}/entries", json=entry)
    assert r.status_code == 201, r.text
    assert [(h.entry.plate, h.kind.value) for h in hotlist_index(hub).match(world.agency().id, "LKP42", "WI")] == [
        ("LKP*", "partial")]
    r = admin.post(f"/api/agency/hotlists/{list_id}/entries", json={**entry, "reason": ""})
    assert r.status_code == 422 and r.json()["details"] == {"field": "reason"}
    r = admin.post(f"/api/agency/hotlists/{list_id}/entries", json={**entry, "expires_at": "2020-01-01"})
    assert r.status_code == 422 and r.json()["details"] == {"field": "expires_at"}
    entries = admin.get(f"/api/agency/hotlists/{list_id}/entries").json()
    partial = next(e for e in entries if e["plate"] == "LKP*")
    assert admin.delete(f"/api/agency/hotlists/{list_id}/entries/{partial['id']}").status_code == 204
    assert hotlist_index(hub).match(world.agency().id, "LKP42", "WI") == []
    assert world.staff("officer").post(f"/api/agency/hotlists/{list_id}/entries", json=entry).status_code == 403
    feed = upload(admin, NCIC).json()["list"]["id"]
    assert admin.post(f"/api/agency/hotlists/{feed}/entries", json=entry).status_code == 409


@pytest.mark.parametrize("backend", ["sqlite"])  # the command's own behaviour; storage is covered above
def test_cli_import_and_list(world, settings, monkeypatch, tmp_path, capsys):
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.database_url)
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    slug = world.agency().slug
    good, bad = tmp_path / "good.csv", tmp_path / "bad.csv"
    good.write_bytes(NCIC)
    bad.write_bytes(BAD)
    assert rtcc(["hotlist", "import", "--agency", slug, "--list", "NCIC daily", "--format", "ncic",
                 "--stale-after-hours", "6", str(good)]) == 0
    assert "version 1, 2 entries" in capsys.readouterr().out
    assert rtcc(["hotlist", "import", "--agency", slug, "--list", "NCIC daily", "--format", "ncic", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "line 3, field LIS" in err and "nothing imported" in err
    assert rtcc(["hotlist", "import", "--agency", "nowhere", "--list", "x", "--format", "ncic", str(good)]) == 1
    capsys.readouterr()
    assert rtcc(["hotlist", "list"]) == 0
    out = capsys.readouterr().out
    assert "NCIC daily" in out and "      2    1" in out and "limit 6 h" in out
