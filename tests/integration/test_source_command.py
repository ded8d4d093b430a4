"""`rtcc source create`: the key printed once works for ingest; bad input is named, nothing is created."""

from __future__ import annotations

from datetime import UTC, datetime

from fastapi.testclient import TestClient

from openrtcc.cli import main
from openrtcc.services.admin import create_agency
from tests.conftest import LAKEPORT, PASSWORD
from tests.plate_reads import post_reads, read_body


def test_the_cli_creates_a_source_whose_key_ingests(settings, hub, app, monkeypatch, capsys):
    create_agency(hub, slug="lakeport", name="Lakeport Police", jurisdiction=LAKEPORT,
                  admin_email="admin@lakeport.test", admin_password=PASSWORD)
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.resolved_database_url)
    assert main(["source", "create", "--agency", "lakeport", "--name", "Edge box 1", "--kind", "edge",
                 "--default-state", "wi"]) == 0
    out = capsys.readouterr().out
    key = out.split("ingest key (shown once; the hub keeps only its SHA-256): ")[1].split()[0]
    assert key.startswith("rtcc_src_")
    now = datetime.now(UTC).replace(microsecond=0)
    r = post_reads(TestClient(app), key, [read_body("e-1", "ABC123", min(now, hub.clock.now()))])
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text
    assert main(["source", "create", "--agency", "nowhere", "--name", "x"]) == 1
    assert "no agency 'nowhere'" in capsys.readouterr().err
    assert main(["source", "create", "--agency", "lakeport", "--name", "x", "--default-state", "ZZ"]) == 1
    assert "unknown state" in capsys.readouterr().err
    with hub.uow() as uow:
        sources = uow.read_sources.for_agency(uow.accounts.agency_by_slug("lakeport").id)
        uow.rollback()
    assert [s.name for s in sources] == ["Edge box 1"]
