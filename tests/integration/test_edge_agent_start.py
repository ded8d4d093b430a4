"""The agent in-process: a camera whose host does not resolve yet is alarmed and retried, not fatal, and the
box still stops promptly with its hub unreachable."""

from __future__ import annotations

import json
import time

from openrtcc.edge.agent import EdgeAgent
from openrtcc.edge.config import EdgeConfig
from tests.edge_hub import free_port


def test_an_unresolvable_camera_is_alarmed_and_the_box_still_stops_promptly(tmp_path):
    hub_url = f"http://127.0.0.1:{free_port()}"  # nothing listens there
    config = EdgeConfig.model_validate({
        "edge": {"name": "garage", "data_dir": str(tmp_path / "box"), "hub_url": hub_url},
        "cameras": [{"id": "porch", "name": "Porch", "url": "rtsp://viewer:hunter2@no-such-camera.invalid/s1",
                     "record": True}]})
    creds = tmp_path / "box" / "credentials.json"
    creds.parent.mkdir(mode=0o700)
    creds.write_text(json.dumps({"edge_id": "e1", "key": "rtcc_edge_x", "hub_url": hub_url}))
    creds.chmod(0o600)
    agent = EdgeAgent(config)
    agent.start()
    try:
        deadline = time.monotonic() + 10
        while not agent.alarms.is_active("camera_offline", "porch") and time.monotonic() < deadline:
            time.sleep(0.05)
        [alarm] = [a for a in agent.alarms.active() if a.code == "camera_offline"]
        assert "no-such-camera.invalid does not resolve" in alarm.message and "hunter2" not in alarm.message
        assert agent.cameras["porch"].main is None  # nothing opened
    finally:
        began = time.monotonic()
        agent.stop()
    assert time.monotonic() - began < 5


def test_a_second_box_on_the_same_folder_is_refused_and_the_folder_is_free_again_after_stop(tmp_path):
    from openrtcc.domain.errors import InvalidInput

    hub_url = f"http://127.0.0.1:{free_port()}"
    config = EdgeConfig.model_validate({"edge": {"name": "garage", "data_dir": str(tmp_path / "box"),
                                                 "hub_url": hub_url}})
    (tmp_path / "box").mkdir(mode=0o700)
    creds = tmp_path / "box" / "credentials.json"
    creds.write_text(json.dumps({"edge_id": "e1", "key": "rtcc_edge_x", "hub_url": hub_url}))
    creds.chmod(0o600)
    first = EdgeAgent(config)
    try:
        try:
            EdgeAgent(config)
        except InvalidInput as exc:
            assert exc.code == "edge_busy" and str(tmp_path / "box") in exc.message
        else:
            raise AssertionError("a second box opened the same data folder")
    finally:
        first.stop()
    EdgeAgent(config).stop()  # released: the next run starts
