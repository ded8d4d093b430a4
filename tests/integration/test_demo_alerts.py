"""The demo city's plate reads: the alerts page has alerts of each kind to verify, with crops."""

from __future__ import annotations

import pyotp
from fastapi.testclient import TestClient

from openrtcc.demo.city import seed_demo_city


def test_the_demo_has_alerts_to_verify(hub, app, clock):
    seeded = seed_demo_city(hub, cameras=120)
    assert "3 plate alerts to verify at /alerts" in seeded["summary"]
    client = TestClient(app)
    r = client.post("/api/auth/logon", json={"email": "officer@police.lakeport.example", "password": seeded["password"],
                                             "code": pyotp.TOTP(seeded["totp_secret"]).at(clock.now()),
                                             "accept_banner": True})
    assert r.status_code == 200, r.text
    headers = {"Authorization": f"Bearer {r.json()['token']}"}
    alerts = client.get("/api/agency/alerts", headers=headers).json()
    assert sorted((a["plate"], a["match_kind"]) for a in alerts) == [
        ("7TQ5530", "partial"), ("8RG882O", "lookalike"), ("LKP4512", "exact")]  # not the Minnesota AMB0917
    assert all(a["camera_id"] and a["record"]["reason"] for a in alerts)
    crop = client.get(alerts[0]["crop_url"], headers=headers)
    assert crop.status_code == 200 and crop.headers["content-type"] == "image/png"
