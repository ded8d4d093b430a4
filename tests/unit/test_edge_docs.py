"""The README's edge.toml example is a valid configuration (the docs cannot drift from the schema)."""

from __future__ import annotations

import re
import tomllib
from pathlib import Path

from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.url_guard import check_camera_url

README = Path(__file__).resolve().parents[2] / "README.md"


def test_the_readme_edge_toml_example_is_valid():
    section = README.read_text().split("## Edge box", 1)[1]
    example = re.search(r"```toml\n(.*?)```", section, re.S).group(1)
    config = EdgeConfig.model_validate(tomllib.loads(example))
    [camera] = config.cameras
    assert camera.plate_reading and camera.substream_url and len(camera.privacy_masks) == 1
    for url in (camera.url, camera.substream_url):
        assert check_camera_url(url).address == "192.168.1.20"
