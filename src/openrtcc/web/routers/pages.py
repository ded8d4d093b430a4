"""HTML pages: thin shells; their data comes from the JSON API."""

from __future__ import annotations

from pathlib import Path

from fastapi import APIRouter, Request
from fastapi.responses import HTMLResponse
from fastapi.templating import Jinja2Templates

TEMPLATES = Jinja2Templates(directory=Path(__file__).resolve().parents[1] / "templates")
router = APIRouter(include_in_schema=False)


def _page(request: Request, name: str, **extra) -> HTMLResponse:
    s = request.app.state.settings
    return TEMPLATES.TemplateResponse(request, name, {
        "deployment_name": s.deployment_name, "banner": s.use_banner, "tile_url": s.tile_url,
        "tile_attribution": s.tile_attribution, **extra,
    })


@router.get("/", response_class=HTMLResponse)
def home(request: Request):
    return _page(request, "home.html")
