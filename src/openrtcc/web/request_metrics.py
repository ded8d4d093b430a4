"""HTTP request counts and latency by route template (never the raw path, which carries ids and plates)."""

from __future__ import annotations

import time

from openrtcc.services.hub import Hub

UNMATCHED_ROUTE = "unmatched"
KNOWN_METHODS = frozenset({"GET", "HEAD", "POST", "PUT", "PATCH", "DELETE", "OPTIONS"})


def route_templates(app) -> set[str]:
    """Every path template the application routes (mounts included): the only values of the route label."""
    return set(_paths(app.router.routes))


def _paths(routes, prefix: str = ""):
    for r in routes:
        # FastAPI keeps an included router as one branch: its routes (HTTP and WebSocket) under the include's prefix.
        inner = getattr(r, "original_router", None)
        if inner is not None:
            yield from _paths(inner.routes, prefix + getattr(getattr(r, "include_context", None), "prefix", ""))
        elif getattr(r, "path", None):
            yield prefix + r.path


class RequestMetrics:
    """Pure ASGI middleware: counts each HTTP request by (route template, method, status) with its latency, and
    the WebSockets open now by route template."""

    def __init__(self, app, hub: Hub):
        self.app = app
        self.hub = hub
        self.open_sockets: dict[str, int] = {}

    async def __call__(self, scope, receive, send):
        if scope["type"] == "websocket":
            return await self._socket(scope, receive, send)
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        started = time.perf_counter()
        status = 500  # what the server answers if the application raises before responding

        async def observed_send(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            self._record(scope, status, time.perf_counter() - started)

    async def _socket(self, scope, receive, send):
        """Count a WebSocket as connected from its accept to its end, under the route that took it."""
        template = None

        async def observed_send(message):
            nonlocal template
            if message["type"] == "websocket.accept" and template is None:
                template = getattr(scope.get("route"), "path", None) or UNMATCHED_ROUTE
                self._sockets(template, +1)
            await send(message)

        try:
            await self.app(scope, receive, observed_send)
        finally:
            if template is not None:
                self._sockets(template, -1)

    def _sockets(self, template: str, change: int) -> None:
        # One event loop runs every socket of this app: the dict needs no lock.
        self.open_sockets[template] = self.open_sockets.get(template, 0) + change
        self.hub.metrics.gauge("rtcc_websocket_clients", self.open_sockets[template], route=template)

    def _record(self, scope, status: int, seconds: float) -> None:
        route = scope.get("route")
        template = getattr(route, "path", None) or UNMATCHED_ROUTE
        method = scope["method"] if scope["method"] in KNOWN_METHODS else "OTHER"
        metrics = self.hub.metrics
        metrics.count("rtcc_http_requests_total", route=template, method=method, status=str(status))
        metrics.observe("rtcc_http_request_duration_seconds", seconds, route=template, method=method)


def install_request_metrics(app, hub: Hub) -> None:
    """Count every request (outermost, so refusals by the size limit count too) and tell the metrics which
    route templates exist: the route label refuses anything else."""
    routes = getattr(hub.metrics, "routes", None)
    if routes is not None:
        routes.install(route_templates(app))
    app.add_middleware(RequestMetrics, hub=hub)
