"""`rtcc edge` refuses to start with a clear one-line error: a bad edge.toml (file and key named), a box
that is not enrolled, a camera URL the box must never open; the password in that URL is never printed."""

from __future__ import annotations

import json

import pytest

from openrtcc.cli import main

GOOD_EDGE = '[edge]\nname = "garage"\ndata_dir = "box"\nhub_url = "http://127.0.0.1:9"\n'


def _run(tmp_path, text: str, *args: str, enrolled: bool = False) -> int:
    config = tmp_path / "edge.toml"
    config.write_text(text)
    if enrolled:
        creds = tmp_path / "box" / "credentials.json"
        creds.parent.mkdir(mode=0o700)
        creds.write_text(json.dumps({"edge_id": "e1", "key": "rtcc_edge_x", "hub_url": "http://127.0.0.1:9"}))
        creds.chmod(0o600)
    return main(["edge", "--config", str(config), *args])


@pytest.mark.parametrize("text, expected", [
    ("[edge\n", "is not valid TOML"),
    ('[edge]\nname = "x"\n', "edge.hub_url: Field required"),
    (GOOD_EDGE + "[recording]\nretention_days = 90\n", "recording.retention_days: Input should be less than"),
    (GOOD_EDGE + '[[cameras]]\nid = "c1"\nname = "x"\nurl = "http://10.0.0.2/x"\n', "cameras.0.url"),
    (GOOD_EDGE + "[edge.extra]\n", "edge.extra"),
])
def test_a_bad_edge_toml_names_the_file_and_the_key(tmp_path, capsys, text, expected):
    assert _run(tmp_path, text) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rtcc edge run: ") and str(tmp_path / "edge.toml") in err and expected in err
    assert "\n" not in err


def test_a_missing_config_file(tmp_path, capsys):
    assert main(["edge", "--config", str(tmp_path / "nope.toml")]) == 2
    assert "cannot read" in capsys.readouterr().err


def test_a_box_that_is_not_enrolled_is_told_how_to_enrol(tmp_path, capsys):
    assert _run(tmp_path, GOOD_EDGE) == 2
    assert "rtcc edge enrol --code" in capsys.readouterr().err


@pytest.mark.parametrize("url", ["rtsp://admin:hunter2@169.254.169.254/latest", "rtsp://admin:hunter2@0.0.0.0/x",
                                 "rtsp://admin:hunter2@127.0.0.1:9/x"])  # the last one is the hub itself
def test_an_unsafe_camera_url_stops_the_box_at_start(tmp_path, capsys, url):
    text = GOOD_EDGE + f'[[cameras]]\nid = "c1"\nname = "Porch"\nurl = "{url}"\n'
    assert _run(tmp_path, text, enrolled=True) == 2
    err = capsys.readouterr().err
    assert "camera c1:" in err and "refused" in err and "hunter2" not in err


@pytest.mark.parametrize("args, expected", [
    (["--probe-address", "no-port"], "must be host:port"),
    (["--probe-address", "no-such-host.invalid:3702"], "does not resolve"),
    (["--timeout", "0"], "--timeout must be"),
    (["--username", "admin", "--password-env", "RTCC_TEST_UNSET_PASSWORD"], "set RTCC_TEST_UNSET_PASSWORD"),
])
def test_discover_refuses_bad_arguments_in_one_line(tmp_path, capsys, args, expected):
    assert main(["edge", "--config", str(tmp_path / "none.toml"), "discover", *args]) == 2
    err = capsys.readouterr().err.strip()
    assert err.startswith("rtcc edge discover: ") and expected in err and "\n" not in err
