"""Public endpoints, no log-on: alert sign-up with double opt-in, one-click unsubscribe, and the tip form.

    POST /api/public/unsubscribe?s=<id>&t=<token>   RFC 8058 one-click (body List-Unsubscribe=One-Click)
"""

from __future__ import annotations

import dataclasses
from typing import Annotated

from fastapi import APIRouter, Form, Query, Request, UploadFile
from starlette.concurrency import run_in_threadpool

from openrtcc.services import public_signup, tips
from openrtcc.services.public_signup import SignupForm
from openrtcc.services.tips import TipForm
from openrtcc.web.deps import HubDep, Source
from openrtcc.web.public_schemas import AnswerOut, ConfirmIn, LinkOut, SignupIn

router = APIRouter(prefix="/api/public", tags=["public"])
LinkId = Annotated[str, Query(min_length=1, max_length=64)]
LinkToken = Annotated[str, Query(min_length=1, max_length=80)]


@router.get("/options")
def options(hub: HubDep, client: Source) -> dict:
    """Programs (with their areas), channels, categories and radius bounds for the sign-up and tip pages."""
    return public_signup.options(hub, client)


@router.post("/subscriptions", status_code=202)
def sign_up(body: SignupIn, hub: HubDep, client: Source) -> AnswerOut:
    """The same answer whether or not the address is known; the confirmation goes out through its channel."""
    return AnswerOut(message=public_signup.sign_up(hub, SignupForm(**body.model_dump()), client))


@router.post("/subscriptions/confirm")
def confirm(body: ConfirmIn, hub: HubDep, client: Source) -> LinkOut:
    return LinkOut(**dataclasses.asdict(public_signup.confirm(hub, body.s, body.t, client)))


@router.get("/unsubscribe")
def unsubscribe_view(s: LinkId, t: LinkToken, hub: HubDep, client: Source) -> LinkOut:
    """What the unsubscribe page shows; following the link changes nothing (mail scanners follow links)."""
    return LinkOut(**dataclasses.asdict(public_signup.unsubscribe_view(hub, s, t, client)))


@router.post("/unsubscribe")
async def unsubscribe(s: LinkId, t: LinkToken, request: Request, client: Source) -> LinkOut:
    """The page's button and RFC 8058 one-click from a mail client: both unsubscribe at once."""
    body = (await request.body())[:200]
    via = "one_click" if b"List-Unsubscribe=One-Click" in body else "page"
    done = await run_in_threadpool(public_signup.unsubscribe, request.app.state.hub, s, t, client, via)
    return LinkOut(**dataclasses.asdict(done))


@router.post("/tips", status_code=201)
def send_tip(hub: HubDep, client: Source, agency_id: Annotated[str, Form(min_length=1, max_length=36)],
             text: Annotated[str, Form(max_length=20_000)] = "",
             lat: Annotated[float | None, Form()] = None, lon: Annotated[float | None, Form()] = None,
             location_text: Annotated[str | None, Form(max_length=1000)] = None,
             contact: Annotated[str | None, Form(max_length=1000)] = None,
             media: UploadFile | None = None) -> AnswerOut:
    """A tip: text, optionally a place, a way to reach the tipster, one photo or clip (multipart)."""
    form = TipForm(agency_id, text, lat, lon, location_text, contact)
    return AnswerOut(message=tips.submit_tip(hub, form, media.file if media else None, client))
