"""The box's camera URL guard: what it refuses, what it pins, and what it never prints."""

from __future__ import annotations

import ipaddress

import pytest

from openrtcc.edge.url_guard import (
    UnresolvedCameraHost,
    UnsafeCameraUrl,
    address_refusal,
    check_camera_url,
    check_device_uri,
    hub_endpoints,
    pin_host,
    redact,
)

HUB = [(ipaddress.ip_address("203.0.113.7"), 443)]
LOCAL_HUB = [(ipaddress.ip_address("127.0.0.1"), 8000)]


@pytest.mark.parametrize("url, address", [
    ("rtsp://192.168.1.20/stream1", "192.168.1.20"),
    ("rtsp://admin:s3cret@10.0.0.5:8554/cam", "10.0.0.5"),
    ("rtsps://172.16.4.4/live", "172.16.4.4"),
    ("RTSP://127.0.0.1:8554/cars", "127.0.0.1"),  # a box beside its hub, tests
    ("rtsp://[::1]:8554/cars", "::1"),
    ("rtsp://[fd12:3456::9]/main", "fd12:3456::9"),
    ("rtsp://100.64.1.2/cgnat", "100.64.1.2"),
])
def test_lan_and_loopback_cameras_are_allowed(url, address):
    checked = check_camera_url(url, hub=HUB)
    assert checked.address == address


@pytest.mark.parametrize("url, why", [
    ("http://192.168.1.20/stream", "must use rtsp:// or rtsps://"),
    ("file:///etc/passwd", "must use"),
    ("rtmp://192.168.1.20/live", "must use"),
    ("rtsp:///no-host", "has no host"),
    ("", "is empty"),
    ("rtsp://192.168.1.20/a b", "whitespace or control"),
    ("rtsp://192.168.1.20/a\r\nInjected: 1", "whitespace or control"),
    ("rtsp://192.168.1.20/\x00", "whitespace or control"),
    ("rtsp://192.168.1.20:99999/x", "malformed"),
    ("rtsp://" + "a" * 3000, "longer than"),
    ("rtsp://169.254.169.254/latest/meta-data", "link-local"),
    ("rtsp://169.254.10.1/cam", "link-local"),
    ("rtsp://[fe80::1]/cam", "link-local"),
    ("rtsp://[::ffff:169.254.169.254]/x", "link-local"),
    ("rtsp://[64:ff9b::a9fe:a9fe]/x", "link-local"),
    ("rtsp://100.100.100.200/x", "metadata"),
    ("rtsp://[fd00:ec2::254]/x", "metadata"),
    ("rtsp://0.0.0.0/x", "unspecified"),
    ("rtsp://0.1.2.3/x", "unspecified"),
    ("rtsp://[::]/x", "unspecified"),
    ("rtsp://239.255.255.250/x", "multicast"),
    ("rtsp://[ff02::1]/x", "multicast"),
    ("rtsp://255.255.255.255/x", "broadcast"),
    ("rtsp://240.0.0.1/x", "reserved"),
    ("rtsp://203.0.113.7:554/x", "hub's own address"),
])
def test_refused_urls_say_why(url, why):
    with pytest.raises(UnsafeCameraUrl) as exc:
        check_camera_url(url, hub=HUB)
    assert why in exc.value.message


def test_a_loopback_hub_refuses_only_its_own_port():
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), 8000, LOCAL_HUB) == "the hub's own address"
    assert address_refusal(ipaddress.ip_address("127.0.0.1"), 8554, LOCAL_HUB) is None
    assert address_refusal(ipaddress.ip_address("::ffff:127.0.0.1"), 8000, LOCAL_HUB) == "the hub's own address"


def test_hub_endpoints_resolve_the_hub_url():
    assert hub_endpoints("http://127.0.0.1:8123") == [(ipaddress.ip_address("127.0.0.1"), 8123)]
    assert hub_endpoints("https://203.0.113.7") == [(ipaddress.ip_address("203.0.113.7"), 443)]
    assert hub_endpoints("https://does-not-resolve.invalid") == []


def test_a_name_with_one_bad_address_is_refused_whole():
    """A rebinding name answering both a LAN and the metadata address must not pass on the good one."""
    table = {"cam.lan": ["192.168.1.20", "169.254.169.254"]}
    with pytest.raises(UnsafeCameraUrl, match="169.254.169.254"):
        check_camera_url("rtsp://cam.lan/x", resolver=lambda host, port: table[host])


def test_the_checked_url_is_pinned_to_the_resolved_address():
    table = {"cam.lan": ["192.168.1.20"]}
    checked = check_camera_url("rtsp://admin:pa%40ss@cam.lan:8554/s?ch=1", resolver=lambda h, p: table[h])
    assert checked.connect_url == "rtsp://admin:pa%40ss@192.168.1.20:8554/s?ch=1"
    assert checked.port == 8554 and checked.host == "cam.lan"
    assert "pa%40ss" not in repr(checked) and "pa%40ss" not in checked.redacted


def test_an_unresolvable_host_is_a_clear_error_worth_retrying():
    with pytest.raises(UnresolvedCameraHost, match="does not resolve"):
        check_camera_url("rtsp://no-such-camera.invalid/x")


@pytest.mark.parametrize("url, address, expected", [
    ("rtsp://1.2.3.4/a", "::1", "rtsp://[::1]/a"),
    ("rtsp://u:p@cam:554/a?b=c", "10.0.0.1", "rtsp://u:p@10.0.0.1:554/a?b=c"),
    ("rtsp://[fe80::1]:8554/a", "10.0.0.1", "rtsp://10.0.0.1:8554/a"),
])
def test_pin_host(url, address, expected):
    assert pin_host(url, address) == expected


@pytest.mark.parametrize("url, shown", [
    ("rtsp://admin:hunter2@10.0.0.5:554/cam", "rtsp://***@10.0.0.5:554/cam"),
    ("rtsp://admin@10.0.0.5/cam", "rtsp://***@10.0.0.5/cam"),
    ("rtsp://10.0.0.5/cam?user=admin&password=hunter2&channel=1",
     "rtsp://10.0.0.5/cam?user=***&password=***&channel=1"),
    ("rtsp://a:b@c@10.0.0.5/x", "rtsp://***@10.0.0.5/x"),
    ("rtsp://10.0.0.5/a\r\nb", "rtsp://10.0.0.5/ab"),  # no line breaks reach a log
])
def test_redact_hides_credentials(url, shown):
    assert redact(url) == shown
    assert "hunter2" not in redact(url)


def test_refusals_never_carry_the_password():
    with pytest.raises(UnsafeCameraUrl) as exc:
        check_camera_url("rtsp://admin:hunter2@169.254.169.254/x")
    assert "hunter2" not in str(exc.value)


@pytest.mark.parametrize("uri, device, ok", [
    ("rtsp://192.168.1.20:554/main", "192.168.1.20", True),
    ("rtsp://192.168.1.21:554/main", "192.168.1.20", False),  # another host on the LAN
    ("rtsp://169.254.169.254/main", "192.168.1.20", False),
    ("rtsp://[::ffff:192.168.1.20]/main", "192.168.1.20", True),
    ("http://192.168.1.20/onvif/device_service", "192.168.1.20", True),
])
def test_a_discovered_uri_must_point_at_the_device(uri, device, ok):
    schemes = ("rtsp", "rtsps", "http", "https")
    if ok:
        assert check_device_uri(uri, device, schemes=schemes).address
    else:
        with pytest.raises(UnsafeCameraUrl):
            check_device_uri(uri, device, schemes=schemes)
