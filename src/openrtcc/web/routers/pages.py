"""HTML pages: thin shells; their data comes from the JSON API, which alone decides who may see what."""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
router = APIRouter(include_in_schema=False)

MAP_ROLES = ("admin", "supervisor", "analyst", "officer")


@dataclass(frozen=True, slots=True)
class PageSpec:
    path: str
    template: str
    title: str
    # Who the page is for. The browser uses it to steer people to their own pages; the API still
    # refuses every call a role may not make, so this list is a convenience, not a control.
    roles: tuple[str, ...] = ()
    needs_session: bool = True


PAGES = (
    PageSpec("/", "home.html", "Community camera program", needs_session=False),
    PageSpec("/login", "login.html", "Log on", needs_session=False),
    PageSpec("/signup", "signup.html", "Register as a camera owner", needs_session=False),
    PageSpec("/portal", "portal.html", "My cameras", roles=("owner",)),
    PageSpec("/map", "map.html", "Camera map", roles=MAP_ROLES),
    PageSpec("/requests", "requests.html", "Footage requests", roles=("analyst", "supervisor")),
    PageSpec("/hotlists", "hotlists.html", "Hot lists", roles=("admin", "supervisor", "analyst", "officer")),
    PageSpec("/alerts", "alerts.html", "Alerts", roles=("admin", "supervisor", "analyst", "officer")),
    PageSpec("/plates", "plates.html", "Plate search", roles=("supervisor", "analyst")),
    PageSpec("/live", "live.html", "Live view", roles=("supervisor", "analyst", "officer")),
    PageSpec("/command", "command.html", "Command center", roles=("admin", "supervisor", "analyst", "officer")),
    PageSpec("/dissemination", "dissemination.html", "Dissemination", roles=("admin", "supervisor")),
    PageSpec("/subscribe", "subscribe.html", "Sign up for public safety alerts", needs_session=False),
    PageSpec("/subscribe/confirm", "subscribe_confirm.html", "Confirm your sign-up", needs_session=False),
    PageSpec("/unsubscribe", "unsubscribe.html", "Unsubscribe", needs_session=False),
    PageSpec("/tip", "tip.html", "Send a tip", needs_session=False),
    PageSpec("/admin", "admin.html", "Users", roles=("admin",)),
    PageSpec("/audit", "audit.html", "Audit trail", roles=("auditor", "admin")),
    # governance (issue 6)
    PageSpec("/governance", "governance.html", "Governance", roles=("admin", "supervisor", "auditor")),
    PageSpec("/sharing", "sharing.html", "Sharing", roles=("admin",)),
    PageSpec("/transparency", "transparency.html", "Transparency", needs_session=False),
)


def _render(request: Request, spec: PageSpec) -> HTMLResponse:
    s = request.app.state.settings
    return TEMPLATES.TemplateResponse(request, spec.template, {
        "deployment_name": s.deployment_name, "banner": s.use_banner, "tile_url": s.tile_url,
        "tile_attribution": s.tile_attribution, "page": spec,
    })


def _handler(spec: PageSpec):
    def page(request: Request) -> HTMLResponse:
        return _render(request, spec)

    page.__name__ = f"page_{spec.template.removesuffix('.html')}"
    return page


for _spec in PAGES:
    router.add_api_route(_spec.path, _handler(_spec), methods=["GET"], response_class=HTMLResponse)
