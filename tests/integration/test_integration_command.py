"""`rtcc integration create|list`: the secret printed once signs CAD calls the hub accepts; a bad code map is
named field by field and creates nothing; the list shows webhook URLs, never secrets."""

from __future__ import annotations

import json

import pytest
from fastapi.testclient import TestClient

from openrtcc.cli import main
from openrtcc.domain.webhook_signing import sign
from openrtcc.services.admin import create_agency
from tests.conftest import LAKEPORT, PASSWORD


@pytest.mark.parametrize("backend", ["sqlite"])  # the command is the services' (tested on both) plus printing
def test_the_cli_creates_an_integration_whose_secret_signs_calls(settings, hub, app, monkeypatch, capsys, tmp_path):
    create_agency(hub, slug="lakeport", name="Lakeport Police", jurisdiction=LAKEPORT,
                  admin_email="admin@lakeport.test", admin_password=PASSWORD)
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.resolved_database_url)
    bad = tmp_path / "bad.json"
    bad.write_text(json.dumps({"codes": {"217": {"category": "Assault!", "priority": 7}}}))
    assert main(["integration", "create", "--agency", "lakeport", "--kind", "cad", "--name", "CAD",
                 "--config", str(bad)]) == 1
    err = capsys.readouterr().err
    assert "codes.217.category" in err and "codes.217.priority" in err
    good = tmp_path / "codes.json"
    good.write_text(json.dumps({"codes": {"217": {"category": "assault", "priority": 2, "label": "Assault"}}}))
    assert main(["integration", "create", "--agency", "lakeport", "--kind", "cad", "--name", "County CAD",
                 "--config", str(good)]) == 0
    out = capsys.readouterr().out
    secret = out.split("signing secret (shown once; put it in the sending system): ")[1].split()[0]
    path = out.split("webhook: POST ")[1].split()[0].split("127.0.0.1:8000")[-1]
    body = json.dumps({"incident_number": "26-9", "call_type": "217", "received_at": "2026-11-21T19:58:00Z",
                       "location": {"lat": 43.0, "lon": -87.92}}).encode()
    r = TestClient(app).post(path, content=body, headers=sign(secret, hub.clock.now(), "cli-test-0001", body))
    assert (r.status_code, r.json()["change"]) == (200, "opened"), r.text

    assert main(["integration", "list", "--agency", "lakeport"]) == 0
    listed = capsys.readouterr().out
    assert "County CAD" in listed and "call codes mapped: 1" in listed and secret not in listed
    assert main(["integration", "list", "--agency", "nowhere"]) == 1
    assert "no agency 'nowhere'" in capsys.readouterr().err
