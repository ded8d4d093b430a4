"""The fallback audit: every API request leaves an audit record, even one whose handler wrote none.

Handlers audit their own actions in the same transaction (services), and refusals by 401/403 are audited
by web/errors.py. What is left (reads served without a unit of work, 422 validation refusals, 409 and 429
answers, failures) is recorded here as `http.request` with the route template (never the raw path or the
query, which may carry plates, tokens or case numbers), the status and the actor, BEFORE the response
starts: if the record of a successful request cannot be written the client gets 503 and no data, as with
any action whose audit fails (a refusal stays the refusal it was). Whether the handler audited is known from the request's AuditScope (domain/audit_scope.py),
marked by the unit of work's commit.
"""

from __future__ import annotations

import json
import logging

from starlette.concurrency import run_in_threadpool

from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.audit_scope import close_scope, open_scope
from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)

API_PREFIX = "/api/"
ACTION = "http.request"
_UNAVAILABLE = json.dumps({"error": "audit_unavailable", "details": {},
                           "message": "the audit log could not be written, so the request was refused"}).encode()


def outcome_of(status: int) -> str:
    if status < 400:
        return "success"
    return "denied" if status in (401, 403) else "failed"


class RequestAudit:
    """Pure ASGI middleware around the routed application (inside the size limits and metrics)."""

    def __init__(self, app, hub: Hub):
        self.app = app
        self.hub = hub

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http" or not scope["path"].startswith(API_PREFIX):
            return await self.app(scope, receive, send)
        mark, token = open_scope()
        started = refused = False

        async def audited_send(message):
            nonlocal started, refused
            if refused:
                return  # the 503 below replaced whatever the handler answered
            if message["type"] == "http.response.start":
                started = True
                status = message["status"]
                # Data is never served unaccounted for; a refusal (4xx, 5xx) stays what it was even then.
                if not mark.committed and not await run_in_threadpool(self._record, scope, status) and status < 400:
                    refused = True
                    await _send_unavailable(send)
                    return
            await send(message)

        try:
            await self.app(scope, receive, audited_send)
        except Exception:
            if not started and not mark.committed:
                await run_in_threadpool(self._record, scope, 500)
            raise
        finally:
            close_scope(token)

    def _record(self, scope, status: int) -> bool:
        route = scope.get("route")
        template = getattr(route, "path", None)
        if template is None:
            return True  # not an operation (unknown path, refused before routing): nothing to name
        actor = (scope.get("state") or {}).get("actor")
        client = scope.get("client")
        entry = AuditEntry(ACTION, outcome_of(status), actor.user_id if actor else None,
                           actor.agency_id if actor else None, f"{scope['method']} {template}"[:200],
                           client[0] if client else None, {"status": status})
        try:
            with self.hub.uow() as uow:
                uow.record(entry)
                uow.commit()
            return True
        except Exception:
            log.exception("could not write the fallback audit record of %s %s", scope["method"], template)
            return False


async def _send_unavailable(send) -> None:
    await send({"type": "http.response.start", "status": 503,
                "headers": [(b"content-type", b"application/json"), (b"content-length", str(len(_UNAVAILABLE)).encode())]})
    await send({"type": "http.response.body", "body": _UNAVAILABLE})


def install_request_audit(app, hub: Hub) -> None:
    app.add_middleware(RequestAudit, hub=hub)
