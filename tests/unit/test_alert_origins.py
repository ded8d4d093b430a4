"""Which page origins may open the live alert WebSocket."""

from __future__ import annotations


def test_live_screens_accept_the_deployments_origin_and_loopback_aliases_only():
    from openrtcc.web.routers.alert_socket import allowed_origins

    assert allowed_origins("https://rtcc.city.example/") == {"https://rtcc.city.example"}
    local = allowed_origins("http://127.0.0.1:8765")
    assert {"http://127.0.0.1:8765", "http://localhost:8765", "http://[::1]:8765"} == local
    assert "http://localhost:8000" not in local and "http://evil.example:8765" not in local
    assert allowed_origins("http://localhost") == {"http://127.0.0.1", "http://localhost", "http://[::1]"}
