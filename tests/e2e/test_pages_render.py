"""Every page renders, obeys the Content-Security-Policy (no inline scripts or handlers), and links only
to assets the hub serves. Runs without a browser, so it also guards machines that lack Chromium."""

from __future__ import annotations

import re
from pathlib import Path

import pytest
from fastapi.testclient import TestClient

from openrtcc.bootstrap import build_hub
from openrtcc.config import Settings
from openrtcc.web.app import create_app
from openrtcc.web.routers.pages import PAGES

JS_DIR = Path(__file__).resolve().parents[2] / "src" / "openrtcc" / "web" / "static" / "js"

TILES = "https://tiles.example.org/{z}/{x}/{y}.png"


@pytest.fixture(scope="module")
def client(tmp_path_factory):
    data = tmp_path_factory.mktemp("pages")
    settings = Settings(data_dir=data, database_url=f"sqlite:///{data / 'rtcc.db'}", smtp_host=None,
                        tile_url=TILES, use_banner="Authorised use only: every action is logged.")
    hub = build_hub(settings, fast_hashing=True)
    yield TestClient(create_app(settings, hub))
    hub.extras["engine"].dispose()


@pytest.mark.parametrize("path", [p.path for p in PAGES])
def test_each_page_renders_without_inline_script_and_with_served_assets(client, path):
    r = client.get(path)
    assert r.status_code == 200 and r.headers["content-type"].startswith("text/html")
    html = r.text
    assert re.search(r"<script(?![^>]*\bsrc=)[^>]*>", html) is None, "inline <script> is refused by the CSP"
    assert re.search(r"\son[a-z]+\s*=", html) is None, "inline event handlers are refused by the CSP"
    assets = re.findall(r'(?:src|href)="(/(?:static|vendor)/[^"]+)"', html)
    assert "/static/js/session.js" in assets and "/static/css/app.css" in assets
    for asset in assets:
        assert client.get(asset).status_code == 200, asset


def test_the_log_on_page_shows_the_configured_banner_before_log_on(client):
    html = client.get("/login").text
    assert "Authorised use only: every action is logged." in html
    assert 'name="accept_banner"' in html


def test_map_pages_carry_the_configured_tile_layer_and_the_clustering_library(client):
    html = client.get("/map").text
    assert f'data-tile-url="{TILES}"' in html
    assert "/vendor/supercluster/supercluster.min.js" in html and "/vendor/leaflet/leaflet.js" in html


def test_every_module_the_pages_import_exists():
    # A wrong import path breaks a whole page in the browser, and only there; catch it here.
    for module in JS_DIR.glob("*.js"):
        for target in re.findall(r'^import [^;]+ from "\./([^"]+)";', module.read_text(), re.MULTILINE):
            assert (JS_DIR / target).is_file(), f"{module.name} imports missing ./{target}"
