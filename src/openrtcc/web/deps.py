"""Request-scoped dependencies: the hub, the verified actor, the client address.

The dependencies that do no I/O are `async def` on purpose: FastAPI runs a plain `def` dependency in its
thread pool, and four thread hand-offs per request were a measurable share of a radius search's latency.
Only a session lookup that needs the database (services/session_cache.py) runs in a worker thread."""

from __future__ import annotations

from typing import Annotated

from fastapi import Depends, Request
from starlette.concurrency import run_in_threadpool

from openrtcc.domain.accounts import AGENCY_ROLES, Role
from openrtcc.domain.errors import Forbidden, Unauthenticated
from openrtcc.services.accounts import SessionInfo, authenticate, cached_session, hash_token
from openrtcc.services.hub import Actor, Hub

SESSION_COOKIE = "rtcc_session"
CSRF_HEADER = "x-requested-with"
UNSAFE = {"POST", "PUT", "PATCH", "DELETE"}


def hub_of(request: Request) -> Hub:
    return request.app.state.hub


def source_of(request: Request) -> str | None:
    return request.client.host if request.client else None


async def get_hub(request: Request) -> Hub:
    return hub_of(request)


async def client_source(request: Request) -> str | None:
    return source_of(request)


def bearer_key(headers) -> str | None:
    """The key of an `Authorization: Bearer ...` header (of a request or a WebSocket handshake), if any."""
    auth = headers.get("authorization", "")
    return auth[7:].strip() if auth.lower().startswith("bearer ") else None


def _token(request: Request) -> tuple[str | None, bool]:
    auth = request.headers.get("authorization", "")
    if auth.lower().startswith("bearer "):
        return auth[7:].strip(), False
    return request.cookies.get(SESSION_COOKIE), True


async def _session(request: Request, allow_enrolment: bool) -> SessionInfo:
    token, from_cookie = _token(request)
    if not token:
        raise Unauthenticated("not logged on", code="not_logged_on")
    if from_cookie and request.method in UNSAFE and request.headers.get(CSRF_HEADER) != "rtcc":
        # A cookie alone never authorises a change: our pages add this header, other sites cannot.
        raise Forbidden("missing X-Requested-With: rtcc header on a cookie-authenticated change", code="csrf")
    hub, source = hub_of(request), source_of(request)
    # A session this process verified lately needs no database: checked here, without a thread hand-off.
    info = cached_session(hub, hash_token(token), source, allow_enrolment=allow_enrolment)
    if info is None:
        info = await run_in_threadpool(authenticate, hub, token, source, allow_enrolment=allow_enrolment)
    request.state.actor = info.actor
    return info


async def current_session(request: Request) -> SessionInfo:
    return await _session(request, allow_enrolment=False)


async def enrolling_session(request: Request) -> SessionInfo:
    return await _session(request, allow_enrolment=True)


async def agency_actor(info: Annotated[SessionInfo, Depends(current_session)]) -> Actor:
    if info.actor.role not in AGENCY_ROLES:
        raise Forbidden("this is for agency staff", code="agency_only")
    return info.actor


async def owner_actor(info: Annotated[SessionInfo, Depends(current_session)]) -> Actor:
    if info.actor.role is not Role.OWNER:
        raise Forbidden("this is for camera owners", code="owner_only")
    return info.actor


HubDep = Annotated[Hub, Depends(get_hub)]
SessionDep = Annotated[SessionInfo, Depends(current_session)]
EnrollingDep = Annotated[SessionInfo, Depends(enrolling_session)]
AgencyActor = Annotated[Actor, Depends(agency_actor)]
OwnerActor = Annotated[Actor, Depends(owner_actor)]
Source = Annotated[str | None, Depends(client_source)]
