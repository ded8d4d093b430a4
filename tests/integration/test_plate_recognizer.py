"""Plate Recognizer Stream webhooks over the app: JSON and multipart (frame as the snapshot), the token in the
header or the URL, retries as duplicates; bad tokens, bad JSON, unknown cameras, oversized and non-image
uploads refused with a clear error and audited, nothing stored."""

from __future__ import annotations

import json
from datetime import timedelta

import pytest
from sqlalchemy import func, select

from openrtcc.adapters.db.tables import audit_log, plate_read
from openrtcc.cli import main
from tests.plate_reads import JPEG, NCIC_LIST, import_list, new_source

ONE_BACKEND = pytest.mark.parametrize("backend", ["sqlite"])  # refusals and the CLI: storage is covered above


def stream_hook(clock, plate: str = "abc123", camera_id: str = "gate-1", **result) -> dict:
    """A Stream webhook as its docs show it (fields we ignore included)."""
    at = (clock.now() - timedelta(seconds=3)).isoformat().replace("+00:00", "Z")
    return {"hook": {"target": "https://hub.example/api", "id": camera_id, "event": "recognition",
                     "filename": f"{camera_id}_screenshots/x.jpg"},
            "data": {"camera_id": camera_id, "filename": "x.jpg", "timestamp": at, "timestamp_local": at,
                     "results": [{"plate": plate, "score": 0.902, "dscore": 0.8, "position_sec": 1.2,
                                  "box": {"xmin": 1, "ymin": 2, "xmax": 3, "ymax": 4},
                                  "region": {"code": "us-ca", "score": 0.8},
                                  "vehicle": {"type": "Sedan", "score": 0.7, "box": {}},
                                  "candidates": [{"plate": plate, "score": 0.9}, {"plate": "abc128", "score": 0.5}],
                                  "color": [{"color": "black", "score": 0.6}],
                                  "model_make": [{"make": "Toyota", "model": "Camry", "score": 0.5}],
                                  "direction": 210, **result}]}}


@pytest.fixture
def stream(world):
    import_list(world, "NCIC stolen", "ncic", NCIC_LIST)
    camera = world.camera(world.owner())
    _, source = new_source(world, kind="integration", name="Stream at the car park")
    r = world.admin().post("/api/agency/plate-integrations", json={
        "read_source_id": source["id"], "kind": "plate_recognizer", "config": {"cameras": {"gate-1": camera["id"]}}})
    assert r.status_code == 201, r.text
    doc = r.json()
    assert doc["token"].startswith("rtcc_pr_")
    assert doc["webhook_url"].endswith(f"/api/ingest/plate-recognizer/{doc['id']}")
    return {"id": doc["id"], "token": doc["token"], "camera": camera, "source": source,
            "url": f"/api/ingest/plate-recognizer/{doc['id']}", "auth": {"Authorization": f"Token {doc['token']}"}}


def count(hub, table, *where) -> int:
    with hub.extras["engine"].connect() as conn:
        return conn.execute(select(func.count()).select_from(table).where(*where)).scalar()


def test_json_and_multipart_webhooks_become_reads_and_alerts(world, anon, hub, clock, stream):
    r = anon.post(stream["url"], json=stream_hook(clock), headers=stream["auth"])
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text
    again = anon.post(stream["url"], json=stream_hook(clock), headers=stream["auth"])  # Stream retries
    assert again.json()["duplicate"] == 1 and again.json()["results"][0]["id"] == r.json()["results"][0]["id"]
    form = {"json": json.dumps(stream_hook(clock, plate="8os5521", region={"code": "us-wi"}))}
    r = anon.post(f"{stream['url']}/{stream['token']}", data=form,  # the token in the URL instead
                  files={"upload": ("frame.jpg", JPEG, "image/jpeg")})
    assert r.status_code == 200 and r.json()["stored"] == 1, r.text
    alerts = {a["plate"]: a for a in world.staff("officer").get("/api/agency/alerts").json()}
    assert sorted(alerts) == ["8OS5521", "ABC123"]
    exact = alerts["ABC123"]
    assert (exact["state"], exact["match_kind"], exact["camera_id"]) == ("CA", "exact", stream["camera"]["id"])
    assert (exact["vehicle_type"], exact["vehicle_colour"], exact["vehicle_make"]) == ("car", "black", "Toyota")
    assert exact["snapshot_url"] is None and alerts["8OS5521"]["snapshot_url"] is not None
    assert count(hub, plate_read, plate_read.c.source_id == stream["source"]["id"]) == 2
    # Under the integration's minimum score, or no plates at all: accepted, nothing stored.
    r = anon.post(stream["url"], json={**stream_hook(clock), "data": {**stream_hook(clock)["data"], "results": []}},
                  headers=stream["auth"])
    assert r.status_code == 200 and r.json()["results"] == []
    r = anon.post(stream["url"], json={"hook": {"id": "gate-1", "event": "heartbeat"}, "data": {}},
                  headers=stream["auth"])  # Stream's other events carry no plates: accepted, nothing stored
    assert r.status_code == 200 and r.json()["results"] == []
    assert count(hub, plate_read, plate_read.c.source_id == stream["source"]["id"]) == 2


@ONE_BACKEND
def test_bad_input_is_refused_clearly_audited_and_stores_nothing(anon, hub, clock, stream, world):
    url, auth = stream["url"], stream["auth"]
    refusals = [
        (anon.post(url, json=stream_hook(clock)), 401, "token_missing"),
        (anon.post(url, json=stream_hook(clock), headers={"Authorization": "Token rtcc_pr_wrong"}), 401, "bad_token"),
        (anon.post(f"{url}/rtcc_pr_wrong", json=stream_hook(clock)), 401, "bad_token"),
        (anon.post("/api/ingest/plate-recognizer/no-such-id", json=stream_hook(clock), headers=auth), 401, "bad_token"),
        (anon.post(url, content=b"{not json", headers={**auth, "Content-Type": "application/json"}), 422, "bad_json"),
        (anon.post(url, json={"data": {"camera_id": "gate-1"}}, headers=auth), 422, "bad_webhook"),
        (anon.post(url, json=stream_hook(clock, camera_id="gate-9"), headers=auth), 422, "unknown_camera"),
        (anon.post(url, json=stream_hook(clock, plate="!!"), headers=auth), 422, "bad_webhook"),
        (anon.post(url, data={"json": json.dumps(stream_hook(clock))}, headers=auth,
                   files={"upload": ("x.jpg", b"GIF89a not a jpeg", "image/jpeg")}), 422, "bad_upload"),
        (anon.post(url, data={"other": "x"}, headers=auth, files={"upload": ("x.jpg", JPEG, "image/jpeg")}),
         422, "bad_form"),
        (anon.post(url, data={"json": json.dumps(stream_hook(clock))}, headers=auth,
                   files={"upload": ("x.jpg", JPEG + b"\0" * (3 * 1024 * 1024), "image/jpeg")}), 413, "too_large"),
    ]
    for response, status, code in refusals:
        assert (response.status_code, response.json()["error"]) == (status, code), response.text
    assert "rtcc_pr_" not in json.dumps([r.json() for r, _, _ in refusals])
    assert count(hub, plate_read) == 0
    refused = count(hub, audit_log, audit_log.c.action == "plate_integration.refused")
    assert refused == 7  # each bad body from a holder of the token; the bad tokens as http.refused
    assert count(hub, audit_log, audit_log.c.action == "http.refused") >= 4
    world.admin().post(f"/api/agency/plate-integrations/{stream['id']}/disable")
    r = anon.post(url, json=stream_hook(clock), headers=auth)
    assert (r.status_code, r.json()["error"]) == (401, "integration_disabled")
    text = hub.metrics.exposition().decode()
    assert 'rtcc_plate_integration_messages_total{kind="plate_recognizer",outcome="unauthorised"} 4.0' in text
    assert 'rtcc_plate_integration_messages_total{kind="plate_recognizer",outcome="refused"} 6.0' in text
    assert 'rtcc_plate_integration_messages_total{kind="plate_recognizer",outcome="unknown_camera"} 1.0' in text


@ONE_BACKEND
def test_the_cli_creates_and_lists_integrations(settings, hub, world, monkeypatch, capsys, tmp_path):
    camera = world.camera(world.owner())
    _, source = new_source(world, kind="integration")
    monkeypatch.setenv("RTCC_DATA_DIR", str(settings.data_dir))
    monkeypatch.setenv("RTCC_DATABASE_URL", settings.resolved_database_url)
    config = tmp_path / "frigate.json"
    config.write_text(json.dumps({"broker_url": "mqtt://frigate.example.org:1883", "username": "rtcc",
                                  "password": "s3cret-broker-pw", "cameras": {"driveway": camera["id"]}}))
    assert main(["plate-integration", "create", "--source", source["id"], "--kind", "frigate",
                 "--config", str(config)]) == 0
    config.write_text(json.dumps({"cameras": {"gate-1": camera["id"]}}))
    assert main(["plate-integration", "create", "--source", source["id"], "--kind", "plate_recognizer",
                 "--config", str(config)]) == 0
    out = capsys.readouterr().out
    assert "token (shown once" in out and "s3cret" not in out
    assert main(["plate-integration", "list"]) == 0
    listed = capsys.readouterr().out
    assert "frigate" in listed and "mqtt://frigate.example.org:1883" in listed and "plate_recognizer" in listed
    assert "s3cret" not in listed and "rtcc_pr_" not in listed
    assert main(["plate-integration", "create", "--source", "nope", "--kind", "frigate", "--config", str(config)]) == 1
    assert "no read source" in capsys.readouterr().err
