"""Domain errors become clear JSON responses; refusals are audited."""

from __future__ import annotations

import logging

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from starlette.exceptions import HTTPException as StarletteHTTPException
from starlette.requests import ClientDisconnect

from openrtcc.adapters.storage.local_media import TooLarge
from openrtcc.domain.audit import AuditEntry
from openrtcc.domain.errors import (
    AuditUnavailable,
    Conflict,
    DomainError,
    Forbidden,
    Gone,
    InvalidInput,
    NotFound,
    PayloadTooLarge,
    RateLimited,
    TamperedMedia,
    Unauthenticated,
    Unavailable,
)

log = logging.getLogger(__name__)

STATUS = {InvalidInput: 422, NotFound: 404, Forbidden: 403, Unauthenticated: 401, Conflict: 409,
          AuditUnavailable: 503, TooLarge: 413, Gone: 410, Unavailable: 503,
          RateLimited: 429, PayloadTooLarge: 413, TamperedMedia: 409}


def _status(exc: DomainError) -> int:
    for kind in type(exc).__mro__:
        if kind in STATUS:
            return STATUS[kind]
    return 400


def _audit_refusal(request: Request, exc: DomainError) -> None:
    """Refused attempts are evidence too (CJIS: unsuccessful access). Log-on writes its own record."""
    if exc.code in ("logon_failed",):
        return
    hub = request.app.state.hub
    actor = getattr(request.state, "actor", None)
    route = request.scope.get("route")
    with hub.uow() as uow:
        uow.record(AuditEntry(
            "http.refused", "denied", actor.user_id if actor else None, actor.agency_id if actor else None,
            f"{request.method} {route.path if route else request.url.path}"[:200],
            request.client.host if request.client else None, {"code": exc.code},
        ))
        uow.commit()


def _audit_tampered(request: Request, exc: TamperedMedia) -> None:
    """A stored file that failed its integrity check: the refusal, who asked and what failed, for the auditors."""
    hub = request.app.state.hub
    actor = getattr(request.state, "actor", None)
    route = request.scope.get("route")
    with hub.uow() as uow:
        uow.record(AuditEntry(
            "media.tampered", "failed", actor.user_id if actor else None, actor.agency_id if actor else None,
            f"{request.method} {route.path if route else request.url.path}"[:200],
            request.client.host if request.client else None, {"code": exc.code, "reason": exc.message[:300]},
        ))
        uow.commit()


def install(app: FastAPI) -> None:
    @app.exception_handler(DomainError)
    async def domain_error(request: Request, exc: DomainError):
        status = _status(exc)
        if isinstance(exc, TamperedMedia):
            log.warning("stored file refused: %s", exc.message)
            try:
                from starlette.concurrency import run_in_threadpool

                await run_in_threadpool(_audit_tampered, request, exc)
            except Exception:  # the file stays refused even if the refusal cannot be recorded
                log.exception("could not audit a tampered file")
        elif status in (401, 403) or (status == 404 and getattr(request.state, "actor", None)):
            if status == 401:  # for the security team's log search: which route, which refusal; never the key
                route = request.scope.get("route")
                log.info("refused %s %s: %s", request.method, getattr(route, "path", "unmatched"), exc.code)
            try:
                from starlette.concurrency import run_in_threadpool

                await run_in_threadpool(_audit_refusal, request, exc)
            except Exception:  # the refusal stands even if it cannot be recorded
                log.exception("could not audit a refused request")
        # A 503 that knows when capacity returns says so too (a busy serving process: services/read_admission.py).
        headers = {"Retry-After": str(max(1, int(exc.details.get("retry_after_s", 60))))} \
            if status == 429 or (status == 503 and "retry_after_s" in exc.details) else None
        return JSONResponse({"error": exc.code, "message": exc.message, "details": exc.details}, status_code=status,
                            headers=headers)

    @app.exception_handler(ClientDisconnect)
    async def client_gone(request: Request, exc: ClientDisconnect):
        """The client went away while sending its body (a box stopping, a dropped connection): nothing was read, so
        nothing was done; no answer can reach it. Not an error of the hub's."""
        log.info("client left during %s %s", request.method, getattr(request.scope.get("route"), "path", "?"))
        return Response(status_code=400)

    @app.exception_handler(RequestValidationError)
    async def validation_error(request: Request, exc: RequestValidationError):
        problems = [_problem(e) for e in exc.errors()]
        first = problems[0] if problems else {"field": "", "message": "invalid request"}
        return JSONResponse(
            {"error": "invalid_input", "message": f"{first['field'] or 'request body'}: {first['message']}",
             "details": {"problems": problems[:20]}},
            status_code=422,
        )

    @app.exception_handler(StarletteHTTPException)
    async def http_error(request: Request, exc: StarletteHTTPException):
        """Framework refusals (unknown path, wrong method, unreadable body) in the same shape as ours."""
        code = HTTP_CODES.get(exc.status_code, "http_error")
        return JSONResponse({"error": code, "message": str(exc.detail), "details": {}},
                            status_code=exc.status_code, headers=exc.headers)


HTTP_CODES = {400: "unreadable_body", 404: "not_found", 405: "method_not_allowed"}


def _problem(e: dict) -> dict:
    if e.get("type") == "json_invalid":
        # FastAPI puts the character position where a field name would be; say what it is.
        pos = e["loc"][-1] if len(e["loc"]) > 1 else "?"
        reason = (e.get("ctx") or {}).get("error", "syntax error")
        return {"field": "", "message": f"not valid JSON: {reason} at character {pos}"}
    return {"field": ".".join(str(p) for p in e["loc"] if p != "body"), "message": e["msg"]}
