"""Log on to a running hub over HTTP as an agency user (with TOTP enrolment on first log-on): an httpx client
that carries the session's bearer token. For tests that drive a real server, not a TestClient."""

from __future__ import annotations

import httpx
import pyotp

from tests.conftest import PASSWORD


def api_log_on(base_url: str, email: str, password: str = PASSWORD, timeout: float = 15) -> httpx.Client:
    client = httpx.Client(base_url=base_url, timeout=timeout)
    r = client.post("/api/auth/logon", json={"email": email, "password": password, "accept_banner": True})
    assert r.status_code == 200, r.text
    client.headers["Authorization"] = f"Bearer {r.json()['token']}"
    if r.json()["mfa_enrolment_needed"]:
        secret = client.post("/api/auth/totp/start").json()["secret"]
        r = client.post("/api/auth/totp/confirm", json={"code": pyotp.TOTP(secret).now()})
        assert r.status_code == 204, r.text
    return client
