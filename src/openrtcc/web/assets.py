"""Front-end libraries from the npm registry, installed from the lock file and served locally.

The hub never points a browser at a CDN: Leaflet, Supercluster and hls.js are installed with `npm ci`
(versions and integrity hashes pinned in package-lock.json) and copied into a local folder.
"""

from __future__ import annotations

import logging
import shutil
import subprocess
from pathlib import Path

log = logging.getLogger(__name__)

PROJECT_ROOT = Path(__file__).resolve().parents[3]
VENDOR_DIR = Path(__file__).parent / "static" / "vendor"
# (file inside node_modules, name served under /vendor/)
FILES = [
    ("leaflet/dist/leaflet.js", "leaflet/leaflet.js"),
    ("leaflet/dist/leaflet.css", "leaflet/leaflet.css"),
    ("leaflet/dist/images", "leaflet/images"),
    ("leaflet/LICENSE", "leaflet/LICENSE"),
    ("supercluster/dist/supercluster.min.js", "supercluster/supercluster.min.js"),
    ("supercluster/LICENSE", "supercluster/LICENSE"),
    # The live-view player. The light build plays fMP4 HLS; its transmuxer worker is a file of ours, not a
    # blob, so the page's CSP needs no blob: workers.
    ("hls.js/dist/hls.light.min.js", "hls.js/hls.light.min.js"),
    ("hls.js/dist/hls.worker.js", "hls.js/hls.worker.js"),
    ("hls.js/LICENSE", "hls.js/LICENSE"),
]


class AssetsMissing(RuntimeError):
    pass


def vendor_dir() -> Path:
    """The folder of vendored assets, installing them on first use."""
    if not all((VENDOR_DIR / served).exists() for _, served in FILES):
        install_assets()
    return VENDOR_DIR


def install_assets() -> None:
    modules = PROJECT_ROOT / "node_modules"
    if not all((modules / src).exists() for src, _ in FILES):
        npm = shutil.which("npm")
        if npm is None or not (PROJECT_ROOT / "package-lock.json").exists():
            raise AssetsMissing(
                "the map's front-end libraries are not installed and npm is not available: "
                "install Node.js and npm (apt-get install -y npm), then run `npm ci` in the project folder"
            )
        log.info("installing front-end libraries with npm ci (first run only)")
        subprocess.run([npm, "ci", "--ignore-scripts", "--no-audit", "--no-fund", "--loglevel=error"],
                       cwd=PROJECT_ROOT, check=True, timeout=300)
    for src, served in FILES:
        target = VENDOR_DIR / served
        target.parent.mkdir(parents=True, exist_ok=True)
        if (modules / src).is_dir():
            shutil.copytree(modules / src, target, dirs_exist_ok=True)
        else:
            shutil.copy2(modules / src, target)
