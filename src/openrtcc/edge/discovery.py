"""ONVIF cameras found on the LAN: a WS-Discovery probe, then each device's media profiles and stream URIs.

The probe goes to the multicast group 239.255.255.250:3702 (TTL 1: this LAN only) or to one host:port.
Every answer is treated as hostile: the device-service and stream addresses it hands over must point at
the address the answer came from (edge/url_guard.py), XML is parsed without DTDs (edge/onvif_soap.py),
HTTP calls have short timeouts, no redirects, no proxies and a size cap. A device that fails any of this is
skipped with a line saying why; the others are still reported. Passwords travel only as WS-Security
digests and are never part of what is printed.
"""

from __future__ import annotations

import json
import logging
import re
import socket
import time
import xml.etree.ElementTree as ET
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from urllib.parse import quote, urlsplit, urlunsplit

import httpx

from openrtcc.edge import onvif_soap as soap
from openrtcc.edge.url_guard import IpAddress, UnsafeCameraUrl, check_device_uri

log = logging.getLogger(__name__)

MULTICAST_GROUP = ("239.255.255.250", 3702)
MAX_ANSWERS = 256
HTTP_TIMEOUT = httpx.Timeout(3.0, connect=2.0)
SERVICE_SCHEMES = ("http", "https")
PASSWORD_PLACEHOLDER = "<password>"


@dataclass(frozen=True)
class DiscoveredStream:
    profile: str
    uri: str  # as the device gave it, checked to point at the device; no credentials
    encoding: str | None
    width: int | None
    height: int | None


@dataclass(frozen=True)
class DiscoveredCamera:
    endpoint: str
    address: str  # where the probe answer came from
    name: str
    hardware: str | None
    streams: tuple[DiscoveredStream, ...]


@dataclass
class DiscoveryResult:
    cameras: list[DiscoveredCamera] = field(default_factory=list)
    problems: list[str] = field(default_factory=list)


@dataclass(frozen=True)
class CameraAccount:
    username: str
    password: str = field(repr=False)


def discover_cameras(*, timeout: float = 3.0, probe_address: tuple[str, int] | None = None,
                     credentials: CameraAccount | None = None, hub: Iterable[tuple[IpAddress, int]] = (),
                     now: Callable[[], datetime] = lambda: datetime.now(UTC)) -> DiscoveryResult:
    """Probe, then ask each video transmitter that answered for its stream URIs."""
    result = DiscoveryResult()
    hub = list(hub)
    answers = probe(timeout, probe_address, result.problems)
    with httpx.Client(timeout=HTTP_TIMEOUT, follow_redirects=False, trust_env=False) as http:
        for address, match in answers:
            device = OnvifDevice(http, address, credentials, hub, now)
            try:
                result.cameras.append(device.describe(match))
            except (soap.OnvifError, UnsafeCameraUrl) as exc:
                result.problems.append(_printable(f"skipped the device at {address} "
                                                  f"({match.scope('name') or match.endpoint}): "
                                                  f"{getattr(exc, 'message', exc)}"))
    return result


def probe(timeout: float, target: tuple[str, int] | None, problems: list[str]) -> list[tuple[str, soap.ProbeMatch]]:
    """(answering address, match) for each video transmitter that answered within `timeout` seconds."""
    message_id = soap.new_message_id()
    destination = _udp_destination(target) if target else MULTICAST_GROUP
    family = socket.AF_INET6 if ":" in destination[0] else socket.AF_INET
    found: dict[str, tuple[str, soap.ProbeMatch]] = {}
    with socket.socket(family, socket.SOCK_DGRAM) as sock:
        if target is None:
            sock.setsockopt(socket.IPPROTO_IP, socket.IP_MULTICAST_TTL, 1)
        sock.sendto(soap.probe_message(message_id), destination)
        deadline = time.monotonic() + timeout
        for _ in range(MAX_ANSWERS):
            remaining = deadline - time.monotonic()
            if remaining <= 0:
                break
            sock.settimeout(remaining)
            try:
                data, source = sock.recvfrom(65535)
            except TimeoutError:
                break
            address = source[0].split("%", 1)[0]
            try:
                matches = soap.parse_probe_matches(data, message_id)
            except soap.OnvifError as exc:
                problems.append(_printable(f"ignored an answer from {address}: {exc}"))
                continue
            for match in matches:
                found.setdefault(match.endpoint, (address, match))  # a device answering twice counts once
            if target is not None and matches:
                break  # a unicast probe reaches one device: no need to wait out the timeout
    return list(found.values())


def _udp_destination(target: tuple[str, int]) -> tuple[str, int]:
    host, port = target
    try:
        info = socket.getaddrinfo(host, port, type=socket.SOCK_DGRAM)
    except socket.gaierror as exc:
        raise soap.OnvifError(f"the probe address {host} does not resolve ({exc})") from None
    return info[0][4][0], port


class OnvifDevice:
    """One answering device, asked over HTTP SOAP; every address it hands back is checked before use."""

    def __init__(self, http: httpx.Client, address: str, credentials: CameraAccount | None,
                 hub: list[tuple[IpAddress, int]], now: Callable[[], datetime]):
        self.http, self.address, self.credentials, self.hub, self.now = http, address, credentials, hub, now

    def describe(self, match: soap.ProbeMatch) -> DiscoveredCamera:
        device_url = self._service_url(match.xaddrs)
        media_url = self._media_url(device_url)
        profiles = soap.parse_profiles(self.call(media_url, soap.GET_PROFILES, "GetProfiles"))
        if not profiles:
            raise soap.OnvifError("the camera has no media profiles")
        streams = []
        for profile in profiles[:8]:
            answer = self.call(media_url, soap.get_stream_uri(profile.token), "GetStreamUri")
            uri = soap.parse_stream_uri(answer)
            check_device_uri(uri, self.address, hub=self.hub)
            streams.append(DiscoveredStream(profile.name, _without_credentials(uri), profile.encoding,
                                            profile.width, profile.height))
        name = match.scope("name") or match.scope("hardware") or f"camera at {self.address}"
        return DiscoveredCamera(match.endpoint, self.address, name, match.scope("hardware"), tuple(streams))

    def _service_url(self, xaddrs: tuple[str, ...]) -> str:
        """The first device-service address that points at the device (plain http first: cameras'
        certificates are self-signed and would fail verification)."""
        refusals = []
        for xaddr in sorted(xaddrs, key=lambda x: not x.lower().startswith("http:")):
            try:
                return check_device_uri(xaddr, self.address, hub=self.hub, schemes=SERVICE_SCHEMES).connect_url
            except UnsafeCameraUrl as exc:
                refusals.append(exc.message)
        raise UnsafeCameraUrl("; ".join(refusals))

    def _media_url(self, device_url: str) -> str:
        try:
            xaddr = soap.parse_media_xaddr(self.call(device_url, soap.GET_CAPABILITIES, "GetCapabilities"))
        except soap.OnvifNotAuthorized:
            raise
        except soap.OnvifError:
            xaddr = None
        if xaddr is None:
            xaddr = soap.parse_media_service(self.call(device_url, soap.GET_SERVICES, "GetServices"))
        if xaddr is None:
            raise soap.OnvifError("the camera offers no media service")
        return check_device_uri(xaddr, self.address, hub=self.hub, schemes=SERVICE_SCHEMES).connect_url

    def call(self, url: str, body: str, what: str) -> ET.Element:
        """One SOAP call. With credentials: a WS-Security digest in the message and, for cameras that ask
        at the HTTP level instead, HTTP Digest on the challenge (never Basic: no password in the clear)."""
        security, auth = "", None
        if self.credentials is not None:
            security = soap.username_token(self.credentials.username, self.credentials.password, self.now())
            auth = httpx.DigestAuth(self.credentials.username, self.credentials.password)
        try:
            with self.http.stream("POST", url, content=soap.soap_request(body, security), auth=auth,
                                  headers={"Content-Type": "application/soap+xml; charset=utf-8"}) as response:
                data = _read_capped(response)
        except httpx.HTTPError as exc:
            raise soap.OnvifError(f"{what}: no answer from {self.address} ({type(exc).__name__})") from None
        if response.status_code in (401, 403) and not data.lstrip().startswith(b"<"):
            hint = "refused the credentials" if self.credentials else "may need credentials (--username)"
            raise soap.OnvifNotAuthorized(f"{what}: the camera {hint} (HTTP {response.status_code})")
        if response.status_code >= 300 and response.status_code not in (400, 500):
            raise soap.OnvifError(f"{what}: HTTP {response.status_code}")
        return soap.soap_body(data, what)


def _read_capped(response: httpx.Response) -> bytes:
    chunks, size = [], 0
    for chunk in response.iter_bytes():
        size += len(chunk)
        if size > soap.MAX_XML_BYTES:
            raise soap.OnvifError(f"the answer is larger than {soap.MAX_XML_BYTES // 1024} KiB")
        chunks.append(chunk)
    return b"".join(chunks)


def _without_credentials(uri: str) -> str:
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(netloc=parts.netloc.rpartition("@")[2]))


def cameras_toml(cameras: list[DiscoveredCamera], username: str | None) -> str:
    """edge.toml [[cameras]] entries for the owner to review: ids to set, the password left as a placeholder."""
    lines = []
    for n, camera in enumerate(cameras, start=1):
        ordered = sorted(camera.streams, key=lambda s: -((s.width or 0) * (s.height or 0)))
        main, sub = ordered[0], (ordered[-1] if len(ordered) > 1 else None)
        lines += [f"# {_comment(camera.name)} at {camera.address} ({_comment(camera.hardware or 'unknown model')},"
                  f" {_comment(camera.endpoint)})",
                  "# set id to the camera's id in the owner portal",
                  "[[cameras]]", f"id = {_toml(_slug(camera.name, n))}", f"name = {_toml(camera.name)}"]
        if username:
            lines.append(f"# put the camera account's password in place of {PASSWORD_PLACEHOLDER} (percent-encoded)")
        lines.append(f"url = {_toml(_url_for(main.uri, username))}  # {_comment(_describe(main))}")
        if sub is not None:
            lines.append(f"substream_url = {_toml(_url_for(sub.uri, username))}  # {_comment(_describe(sub))}")
        lines += ["record = true", "plate_reading = false", ""]
    return "\n".join(lines)


def _url_for(uri: str, username: str | None) -> str:
    if not username:
        return uri
    parts = urlsplit(uri)
    return urlunsplit(parts._replace(netloc=f"{quote(username, safe='')}:{PASSWORD_PLACEHOLDER}@{parts.netloc}"))


def _describe(stream: DiscoveredStream) -> str:
    size = f"{stream.width}x{stream.height}" if stream.width and stream.height else "size unknown"
    return f"{stream.profile}: {stream.encoding or 'codec unknown'}, {size}"


def _slug(name: str, n: int) -> str:
    slug = re.sub(r"[^A-Za-z0-9_.-]+", "-", name).strip("-.")[:48]
    return f"{slug or 'camera'}-{n}" if slug[:1].isalnum() else f"camera-{n}"


def _toml(value: str) -> str:
    """A TOML basic string: JSON's escapes are TOML's."""
    return json.dumps(value)


def _comment(value: str) -> str:
    return _printable(value)[:120]


def _printable(text: str) -> str:
    """Device-supplied text with control characters (terminal escapes, line breaks) replaced."""
    return re.sub(r"[\x00-\x1f\x7f-\x9f]", " ", text)


def parse_probe_address(text: str) -> tuple[str, int]:
    """host:port or [v6]:port, for --probe-address."""
    try:
        parts = urlsplit(f"udp://{text}")
        host, port = parts.hostname, parts.port
    except ValueError:
        host = port = None
    if not host or not port:
        raise ValueError(f"--probe-address must be host:port, not {text!r}")
    return host, port
