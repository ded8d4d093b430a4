"""ONVIF discovery against a local ONVIF camera on loopback (tests/onvif_device.py) whose stream URIs are the
real RTSP server's: what it finds plays, wrong credentials and forged or hostile answers are refused."""

from __future__ import annotations

import os
import subprocess
import sys
import tomllib

import av
import pytest

from openrtcc.edge.discovery import CameraAccount, cameras_toml, discover_cameras, parse_probe_address
from openrtcc.edge.onvif_soap import OnvifError, parse_xml
from tests.onvif_device import OnvifTestCamera
from tests.rtsp import rtsp_server  # noqa: F401  (the fixture)

ADMIN = CameraAccount("admin", "secret")


def _discover(camera: OnvifTestCamera, credentials: CameraAccount | None = ADMIN, **kw):
    return discover_cameras(timeout=1.0, probe_address=parse_probe_address(camera.probe_address),
                            credentials=credentials, **kw)


@pytest.fixture
def camera(rtsp_server):  # noqa: F811
    with OnvifTestCamera({"main": rtsp_server.url("cars"), "sub": rtsp_server.url("cars")}) as cam:
        yield cam


def test_discovery_finds_the_camera_and_its_stream_plays(camera, rtsp_server):  # noqa: F811
    result = _discover(camera)
    assert result.problems == []
    [found] = result.cameras
    assert (found.name, found.hardware, found.address) == ("Driveway Cam", "TC-2000", "127.0.0.1")
    assert [(s.profile, s.width, s.encoding) for s in found.streams] == [("MainStream", 1280, "H264"),
                                                                          ("SubStream", 640, "H264")]
    assert camera.requests == ["GetCapabilities", "GetProfiles", "GetStreamUri", "GetStreamUri"]
    with av.open(found.streams[0].uri, options={"rtsp_transport": "tcp"}, timeout=10) as container:
        frame = next(container.decode(video=0))
    assert (frame.width, frame.height) == (1280, 720)


def test_wrong_password_is_a_clear_error_and_nothing_is_found(camera):
    result = _discover(camera, CameraAccount("admin", "wrong"))
    assert result.cameras == []
    [problem] = result.problems
    assert "refused the credentials" in problem and "127.0.0.1" in problem
    assert "wrong" not in problem


def test_no_credentials_where_the_camera_wants_some(camera):
    [problem] = _discover(camera, None).problems
    assert "GetProfiles: the camera refused the credentials" in problem


@pytest.mark.parametrize("forged", ["rtsp://169.254.169.254/latest/meta-data", "rtsp://127.0.0.2:8554/cars",
                                    "http://127.0.0.1/x", "rtsp://[::ffff:169.254.169.254]/x"])
def test_a_forged_stream_uri_is_refused(camera, forged):
    camera.stream_uris["sub"] = forged
    result = _discover(camera)
    assert result.cameras == []
    [problem] = result.problems
    assert "refused" in problem or "must use rtsp" in problem


def test_a_forged_probe_match_pointing_elsewhere_is_never_contacted(rtsp_server):  # noqa: F811
    """The answer names another host's service address: the box refuses it without sending it anything."""
    with OnvifTestCamera({"main": rtsp_server.url("cars")}, host="127.0.0.2") as bystander, \
            OnvifTestCamera({"main": rtsp_server.url("cars")}) as liar:
        liar.xaddr = bystander.service_url
        result = _discover(liar)
        assert result.cameras == []
        assert "not at the device" in result.problems[0]
        liar.xaddr = "http://169.254.169.254/latest/meta-data"
        assert "link-local" in _discover(liar).problems[0]
        assert bystander.requests == [] and liar.requests == []


def test_an_answer_to_another_probe_is_ignored(camera):
    camera.probe_reply = camera._probe_match("urn:uuid:00000000-0000-4000-8000-000000000000").encode()
    result = _discover(camera)
    assert result.cameras == [] and result.problems == [] and camera.probes == 1


BILLION_LAUGHS = (b'<?xml version="1.0"?><!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]>'
                  b"<lolz>&lol2;</lolz>")
EXTERNAL = b'<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><x>&e;</x>'


@pytest.mark.parametrize("reply, why", [
    (BILLION_LAUGHS, "DTD or entity"),
    (EXTERNAL, "DTD or entity"),
    (b"<a>" * 100_000, "larger than"),
    (b"not xml at all", "not well-formed"),
])
def test_hostile_xml_is_refused(reply, why):
    with pytest.raises(OnvifError, match=why):
        parse_xml(reply)


@pytest.mark.parametrize("operation, reply, why", [
    ("GetProfiles", BILLION_LAUGHS, "DTD or entity"),
    ("GetProfiles", b"<x/>" + b" " * 300_000, "larger than"),
    # Not an envelope: the box falls back to GetServices, which this camera does not offer.
    ("GetCapabilities", b"<x/>", "ActionNotSupported"),
])
def test_a_hostile_device_is_skipped_with_a_reason(camera, operation, reply, why):
    camera.soap_replies[operation] = reply
    [problem] = _discover(camera).problems
    assert why in problem


def test_a_hostile_probe_answer_is_ignored_with_a_reason(camera):
    camera.probe_reply = BILLION_LAUGHS
    result = _discover(camera)
    assert result.cameras == [] and "DTD or entity" in result.problems[0]


def test_wrongly_typed_profiles_skip_the_device(camera):
    answer = camera.answer  # the real answer, with the width spoiled

    def spoiled(request):
        status, payload = answer(request)
        return status, payload.replace(b"<tt:Width>1280</tt:Width>", b"<tt:Width>wide</tt:Width>")

    camera.answer = spoiled
    [problem] = _discover(camera).problems
    assert "Width is not a size in pixels" in problem


def test_cameras_toml_is_valid_and_never_holds_the_password(camera):
    found = _discover(camera).cameras
    text = cameras_toml(found, "admin")
    assert "secret" not in text
    doc = tomllib.loads(text)
    [entry] = doc["cameras"]
    assert entry["url"].startswith("rtsp://admin:<password>@127.0.0.1:")
    assert entry["substream_url"].endswith("/cars") and entry["name"] == "Driveway Cam"


def test_rtcc_edge_discover_prints_entries_and_reasons(camera, tmp_path):
    env = {**os.environ, "RTCC_CAMERA_PASSWORD": "secret"}
    cmd = [sys.executable, "-m", "openrtcc.cli", "edge", "--config", str(tmp_path / "none.toml"), "discover",
           "--probe-address", camera.probe_address, "--timeout", "1", "--username", "admin"]
    done = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=60)
    assert done.returncode == 0, done.stderr
    assert tomllib.loads(done.stdout)["cameras"][0]["name"] == "Driveway Cam"
    assert "secret" not in done.stdout + done.stderr


def test_device_text_cannot_smuggle_terminal_escapes(camera):
    camera.name = "Evil%1B%5B2J%0ACam"  # a scope that unquotes to a clear-screen escape and a line break
    [found] = _discover(camera).cameras
    assert found.name == "Evil [2J Cam"
    camera.soap_replies["GetProfiles"] = (b'<?xml version="1.0"?><s:Envelope xmlns:s="http://www.w3.org/2003/05/'
                                          b'soap-envelope"><s:Body><s:Fault><s:Code><s:Value>s:Sender</s:Value>'
                                          b'</s:Code><s:Reason><s:Text>bad&#x9b;31m&#10;thing</s:Text></s:Reason>'
                                          b'</s:Fault></s:Body></s:Envelope>')
    [problem] = _discover(camera).problems
    assert "bad 31m thing" in problem and "\n" not in problem


def test_a_camera_that_asks_for_http_digest_gets_it_and_a_wrong_password_is_still_refused(camera):
    camera.http_digest = True
    [found] = _discover(camera).cameras
    assert found.streams and camera.http_challenges >= 1
    [problem] = _discover(camera, CameraAccount("admin", "wrong")).problems
    assert "refused the credentials (HTTP 401)" in problem
    [problem] = _discover(camera, None).problems
    assert "may need credentials" in problem
