"""Which hub process does which background work.

The embedded default is one process that does everything. In city mode (RTCC_NATS_URL set) the work is split:
`rtcc serve` processes answer HTTP and WebSocket clients and hold the edge boxes' links; `rtcc worker`
processes store and match plate reads, disseminate, deliver the outbox, purge and anchor. Each role scales out
by starting more processes of it: the shared work is claimed through the database or a JetStream consumer,
never by being the only process.

Wiring modules add background work (objects with start() and stop()) to hub.extras["background"] (the
worker's) or, for work every serving process must do itself, hub.extras["serve_background"].
"""

from __future__ import annotations

from typing import Literal

Role = Literal["serve", "worker"]
SERVE: Role = "serve"
WORKER: Role = "worker"


def city_mode(hub) -> bool:
    return bool(hub.extras.get("city_mode"))


def background_for(hub, role: Role) -> list:
    """The background work a process of this role starts with its lifespan."""
    serve, worker = list(hub.extras.get("serve_background", [])), list(hub.extras.get("background", []))
    if not city_mode(hub):
        return serve + worker
    return serve if role == SERVE else worker


def add_serve_background(hub, task) -> None:
    hub.extras.setdefault("serve_background", []).append(task)
