"""What the API fuzzer found, kept as plain tests: each was a 500 and is now a clear 4xx."""

from __future__ import annotations


def test_delivery_ids_beyond_the_column_are_refused_not_a_database_error(world):
    admin = world.admin()
    for path in ("/api/dissemination/dead-letters/retry", "/api/dissemination/dead-letters/discard"):
        r = admin.post(path, json={"ids": [987, 9783498620136]})
        assert r.status_code == 422 and r.json()["error"] == "invalid_input", r.text
        assert admin.post(path, json={"ids": [987]}).status_code == 404  # an id in range is looked up
    for path in ("/api/dissemination/deliveries", "/api/dissemination/dead-letters"):
        assert admin.get(f"{path}?before={2**40}").status_code == 422


def test_public_links_with_odd_characters_are_bad_links(anon):
    assert anon.get("/api/public/unsubscribe", params={"t": "\u00b9\u0013", "s": "\u00fep"}).status_code == 400
    r = anon.post("/api/public/subscriptions/confirm", json={"t": "\u00b9\u00b2.\u00fe", "s": "x"})
    assert r.status_code in (400, 422) and r.json()["error"] in ("bad_link", "invalid_input")
