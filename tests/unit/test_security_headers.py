"""The security-headers middleware: every response gets them, a response's own choice wins, APIs are not cached."""

from __future__ import annotations

from fastapi.testclient import TestClient
from starlette.applications import Starlette
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from openrtcc.web.security_headers import SecurityHeaders

CSP = "default-src 'self'"


def _app() -> SecurityHeaders:
    async def page(request):
        return PlainTextResponse("page")

    async def own_policy(request):
        return PlainTextResponse("api", headers={"Cache-Control": "max-age=60", "Content-Security-Policy": "none"})

    routes = [Route("/page", page), Route("/api/data", page), Route("/api/own", own_policy)]
    return SecurityHeaders(Starlette(routes=routes), content_security_policy=CSP)


def test_every_response_gets_the_headers_and_only_api_responses_are_not_cached():
    client = TestClient(_app())
    page, api = client.get("/page"), client.get("/api/data")
    for r in (page, api):
        assert r.headers["content-security-policy"] == CSP
        assert r.headers["x-content-type-options"] == "nosniff"
        assert r.headers["referrer-policy"] == "no-referrer"
    assert "cache-control" not in page.headers
    assert api.headers["cache-control"] == "no-store"


def test_headers_the_response_set_itself_are_kept_and_not_duplicated():
    r = TestClient(_app()).get("/api/own")
    assert r.headers.get_list("cache-control") == ["max-age=60"]
    assert r.headers.get_list("content-security-policy") == ["none"]
