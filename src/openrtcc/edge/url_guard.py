"""Camera URLs checked before the box connects: rtsp/rtsps only, no address a forged URL could abuse.

Owners' cameras live on their LAN, so private ranges and loopback stay allowed. Refused: link-local
(169.254.0.0/16 holds the cloud metadata service at 169.254.169.254; fe80::/10), multicast, unspecified,
broadcast, reserved and "this network" ranges, known metadata addresses, and the hub's own addresses
(a camera URL must never make the box talk to the hub's internal ports). A discovered stream URI must
also point at the very device that answered the probe.

No DNS rebinding: `check_camera_url` resolves the host once, checks every address it gets, and returns
`CheckedUrl.connect_url`, the same URL with the host replaced by the checked IP literal. The capture
opens `connect_url` (never the original) so nothing is resolved again between the check and the
connection; logs and errors use `redacted`, never either URL itself, because camera URLs carry passwords.
"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from urllib.parse import parse_qsl, quote, urlsplit, urlunsplit

from openrtcc.domain.errors import InvalidInput

IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address
Resolver = Callable[[str, int], list[str]]

CAMERA_SCHEMES = ("rtsp", "rtsps")
DEFAULT_PORTS = {"rtsp": 554, "rtsps": 322, "http": 80, "https": 443}
MAX_URL_LENGTH = 2048
# Addresses of cloud metadata services outside the link-local ranges (Alibaba; AWS over IPv6).
METADATA_ADDRESSES = frozenset(ipaddress.ip_address(a) for a in ("100.100.100.200", "fd00:ec2::254"))
_THIS_NETWORK = ipaddress.ip_network("0.0.0.0/8")
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f]")
_SECRET_QUERY_KEY = re.compile(r"pass|pwd|user|token|key|auth|secret|sig|cred", re.IGNORECASE)


class UnsafeCameraUrl(InvalidInput):
    """A camera URL the box refuses to open; the message never contains the URL's credentials."""

    code = "unsafe_camera_url"


class UnresolvedCameraHost(UnsafeCameraUrl):
    """The host name does not resolve (now): worth retrying later, unlike the other refusals."""

    code = "camera_host_unresolved"


@dataclass(frozen=True)
class CheckedUrl:
    url: str = field(repr=False)  # as configured, credentials included
    connect_url: str = field(repr=False)  # host replaced by `address`: what the capture opens
    host: str
    port: int
    address: str
    redacted: str


def redact(url: str) -> str:
    """The URL with its user, password and credential-like query values hidden, for logs and errors."""
    try:
        parts = urlsplit(url)
        netloc = parts.netloc.rpartition("@")[2]
        if "@" in parts.netloc:
            netloc = f"***@{netloc}"
        query = "&".join(f"{k}={'***' if _SECRET_QUERY_KEY.search(k) else quote(v, safe='')}"
                         for k, v in parse_qsl(parts.query, keep_blank_values=True))
        return _UNSAFE_CHARS.sub("?", urlunsplit((parts.scheme, netloc, parts.path, query, "")))
    except ValueError:
        return "<unparseable URL>"


def split_camera_url(url: str, schemes: Iterable[str] = CAMERA_SCHEMES) -> tuple[str, str, int]:
    """(scheme, host, port) of a syntactically acceptable URL, else UnsafeCameraUrl saying why."""
    if not isinstance(url, str) or not url:
        raise UnsafeCameraUrl("the camera URL is empty")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeCameraUrl(f"the camera URL is longer than {MAX_URL_LENGTH} characters")
    if _UNSAFE_CHARS.search(url):
        raise UnsafeCameraUrl(f"the camera URL {redact(url)} contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError as exc:
        raise UnsafeCameraUrl(f"the camera URL {redact(url)} is malformed ({exc})") from None
    scheme = parts.scheme.lower()
    if scheme not in tuple(schemes):
        raise UnsafeCameraUrl(f"the camera URL {redact(url)} must use {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise UnsafeCameraUrl(f"the camera URL {redact(url)} has no host")
    return scheme, parts.hostname, port or DEFAULT_PORTS[scheme]


def address_refusal(address: IpAddress, port: int, hub_endpoints: Iterable[tuple[IpAddress, int]] = ()
                    ) -> str | None:
    """Why the box must not connect to this address and port, or None when it may."""
    address = _embedded_ipv4(address)
    if address in METADATA_ADDRESSES:
        return "a cloud metadata address"
    if address.is_unspecified or (address.version == 4 and address in _THIS_NETWORK):
        return "an unspecified address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_multicast:
        return "a multicast address"
    if address.version == 4 and address == ipaddress.IPv4Address("255.255.255.255"):
        return "the broadcast address"
    if address.is_reserved and not address.is_loopback:  # Python counts ::/8, which holds ::1, as reserved
        return "a reserved address"
    for hub_address, hub_port in hub_endpoints:
        hub_address = _embedded_ipv4(hub_address)
        # A box beside its hub on one machine (tests, a demo) shares loopback with it: only the hub's own
        # port is off limits there; anywhere else the hub's whole address is.
        if address == hub_address and (not address.is_loopback or port == hub_port):
            return "the hub's own address"
    return None


def hub_endpoints(hub_url: str, resolver: Resolver | None = None) -> list[tuple[IpAddress, int]]:
    """The hub's resolved addresses with its port; unresolvable: none (the link will report that)."""
    parts = urlsplit(hub_url)
    port = parts.port or DEFAULT_PORTS.get(parts.scheme, 443)
    try:
        addresses = (resolver or resolve_host)(parts.hostname or "", port)
    except UnsafeCameraUrl:
        return []
    return [(ipaddress.ip_address(a), port) for a in addresses]


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host resolves to (getaddrinfo), IP literals as they are."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError) as exc:
        raise UnresolvedCameraHost(f"the camera host {host} does not resolve ({exc})") from None
    seen: list[str] = []
    for *_, sockaddr in infos:
        address = sockaddr[0].split("%", 1)[0]  # an IPv6 zone (fe80::1%eth0) is not part of the address
        if address not in seen:
            seen.append(address)
    return seen


def check_camera_url(url: str, *, hub: Iterable[tuple[IpAddress, int]] = (), resolver: Resolver | None = None,
                     schemes: Iterable[str] = CAMERA_SCHEMES) -> CheckedUrl:
    """Check the URL and every address its host resolves to; the URL to connect to, pinned to one of them."""
    return _check(url, hub, resolver, schemes)[0]


def check_device_uri(uri: str, device_address: str, *, hub: Iterable[tuple[IpAddress, int]] = (),
                     resolver: Resolver | None = None, schemes: Iterable[str] = CAMERA_SCHEMES) -> CheckedUrl:
    """A URI a discovered device handed over (its service or stream address) must point at that device."""
    checked, addresses = _check(uri, hub, resolver, schemes)
    device = _embedded_ipv4(ipaddress.ip_address(device_address))
    if {_embedded_ipv4(a) for a in addresses} != {device}:
        raise UnsafeCameraUrl(f"the device at {device_address} answered with {redact(uri)}, which points at "
                              f"{', '.join(map(str, addresses))}, not at the device; refused")
    return checked


def _check(url: str, hub: Iterable[tuple[IpAddress, int]], resolver: Resolver | None, schemes: Iterable[str]
           ) -> tuple[CheckedUrl, list[IpAddress]]:
    scheme, host, port = split_camera_url(url, schemes)
    addresses = [ipaddress.ip_address(a) for a in (resolver or resolve_host)(host, port)]
    if not addresses:
        raise UnresolvedCameraHost(f"the camera host {host} does not resolve")
    hub = list(hub)
    for address in addresses:
        reason = address_refusal(address, port, hub)
        if reason:
            # One bad answer refuses the host: a name that also resolves to a safe address must not let a
            # later resolution pick the bad one.
            raise UnsafeCameraUrl(f"the camera URL {redact(url)} points at {address}, {reason}; refused")
    first = str(addresses[0])
    return CheckedUrl(url=url, connect_url=pin_host(url, first), host=host, port=port, address=first,
                      redacted=redact(url)), addresses


def pin_host(url: str, address: str) -> str:
    """The URL with its host replaced by the IP literal (user, password, port, path and query kept)."""
    parts = urlsplit(url)
    userinfo, _, _ = parts.netloc.rpartition("@")
    literal = f"[{address}]" if ":" in address else address
    netloc = (f"{userinfo}@" if userinfo else "") + literal + (f":{parts.port}" if parts.port else "")
    return urlunsplit((parts.scheme, netloc, parts.path, parts.query, parts.fragment))


def _embedded_ipv4(address: IpAddress) -> IpAddress:
    """IPv4 hidden in IPv6 (::ffff:a.b.c.d, NAT64 64:ff9b::a.b.c.d) is judged as the IPv4 it reaches."""
    if address.version == 6:
        if address.ipv4_mapped is not None:
            return address.ipv4_mapped
        if address in _NAT64:
            return ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    return address
