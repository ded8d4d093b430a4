"""Outbound addresses subscribers hand us (webhook URLs, MQTT brokers) checked so they cannot reach inside.

A subscription is somebody else's address: the hub must not be made to POST to its own admin port, the
database, a router on its LAN or the cloud metadata service. Every address the host resolves to must be a
global unicast address (no loopback, private, shared/CGNAT, link-local, multicast, reserved or unspecified
ranges; IPv4 hidden in IPv6 is judged as the IPv4 it reaches) unless the deployment runs on a closed network
and sets `outbound_allow_private`. IP tricks (`2130706433`, `0177.0.0.1`, `0x7f.1`) are caught because the
check is made on what the resolver answers, not on the text of the URL.

The check runs when a subscription is made and again at every connection (`resolve_checked`, used by the
webhook transport's connect and the MQTT connect), so a name that re-binds to a private address after it was
accepted is refused then. (The edge box has its own, different policy for camera URLs in edge/url_guard.py:
cameras live on owners' LANs.)"""

from __future__ import annotations

import ipaddress
import re
import socket
from collections.abc import Callable
from dataclasses import dataclass, field
from functools import lru_cache
from urllib.parse import urlsplit

from openrtcc.domain.errors import InvalidInput

Resolver = Callable[[str, int], list[str]]
IpAddress = ipaddress.IPv4Address | ipaddress.IPv6Address

DEFAULT_PORTS = {"http": 80, "https": 443, "mqtt": 1883, "mqtts": 8883}
MAX_URL_LENGTH = 500  # the subscriber.address column
_NAT64 = ipaddress.ip_network("64:ff9b::/96")
_UNSAFE_CHARS = re.compile(r"[\x00-\x20\x7f-\x9f]")


class UnsafeOutboundUrl(InvalidInput):
    """An outbound address refused for good; the message never carries the URL's credentials."""

    code = "unsafe_outbound_url"


class UnresolvedOutboundHost(InvalidInput):
    """The host does not resolve now: worth trying again later, unlike a refusal."""

    code = "outbound_host_unresolved"


@dataclass(frozen=True)
class OutboundTarget:
    scheme: str
    host: str
    port: int
    username: str | None = field(default=None, repr=False)
    password: str | None = field(default=None, repr=False)
    path: str = ""

    @property
    def redacted(self) -> str:
        """scheme://host:port, for logs and errors: never the credentials or the path (it may hold a token)."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return f"{self.scheme}://{host}:{self.port}"


@lru_cache(maxsize=4096)
def parse_outbound_url(url: str, schemes: tuple[str, ...]) -> OutboundTarget:
    """The URL's parts, or UnsafeOutboundUrl saying (without credentials) why it is unusable. Cached: a
    batch names the same few thousand subscriber URLs again and again."""
    if not isinstance(url, str) or not url.strip():
        raise UnsafeOutboundUrl("the address is empty")
    if len(url) > MAX_URL_LENGTH:
        raise UnsafeOutboundUrl(f"the address is longer than {MAX_URL_LENGTH} characters")
    if _UNSAFE_CHARS.search(url):
        raise UnsafeOutboundUrl("the address contains whitespace or control characters")
    try:
        parts = urlsplit(url)
        port = parts.port
    except ValueError:
        raise UnsafeOutboundUrl("the address is not a well-formed URL") from None
    scheme = parts.scheme.lower()
    if scheme not in schemes:
        raise UnsafeOutboundUrl(f"the address must start with {' or '.join(s + '://' for s in schemes)}")
    if not parts.hostname:
        raise UnsafeOutboundUrl("the address has no host")
    return OutboundTarget(scheme, parts.hostname, port or DEFAULT_PORTS[scheme], parts.username, parts.password,
                          parts.path)


def address_refusal(address: IpAddress) -> str | None:
    """Why the hub must not connect to this address, or None when it is an ordinary public address."""
    if address.version == 6:
        if address.ipv4_mapped is not None:
            address = address.ipv4_mapped
        elif address in _NAT64:
            address = ipaddress.IPv4Address(int(address) & 0xFFFFFFFF)
    if address.is_loopback:
        return "a loopback address"
    if address.is_link_local:
        return "a link-local address (cloud metadata lives there)"
    if address.is_multicast:
        return "a multicast address"
    if address.is_unspecified:
        return "an unspecified address"
    if address.is_private or not address.is_global:
        return "a private or reserved address"
    return None


def resolve_host(host: str, port: int) -> list[str]:
    """Every address the host resolves to (getaddrinfo: what a connection would use)."""
    try:
        infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
    except (socket.gaierror, UnicodeError, OSError):
        raise UnresolvedOutboundHost(f"the host {host} does not resolve") from None
    seen: list[str] = []
    for *_, sockaddr in infos:
        address = sockaddr[0].split("%", 1)[0]  # an IPv6 zone is not part of the address
        if address not in seen:
            seen.append(address)
    return seen


def resolve_checked(host: str, port: int, *, allow_private: bool, resolver: Resolver | None = None) -> list[str]:
    """The host's addresses, all of them safe to connect to; else UnsafeOutboundUrl/UnresolvedOutboundHost."""
    addresses = (resolver or resolve_host)(host, port)
    if not addresses:
        raise UnresolvedOutboundHost(f"the host {host} does not resolve")
    if allow_private:
        return addresses
    for raw in addresses:
        reason = address_refusal(ipaddress.ip_address(raw))
        if reason:
            # One bad answer refuses the name: a later resolution could pick it.
            raise UnsafeOutboundUrl(f"the host {host} resolves to {raw}, {reason}; refused")
    return addresses


def check_outbound_url(url: str, schemes: tuple[str, ...], *, allow_private: bool,
                       resolver: Resolver | None = None) -> OutboundTarget:
    """Parse and resolve a subscriber's webhook or broker URL: its target when every address is allowed."""
    target = parse_outbound_url(url, schemes)
    resolve_checked(target.host, target.port, allow_private=allow_private, resolver=resolver)
    return target


def check_webhook_url(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> OutboundTarget:
    """A webhook subscription's URL (http or https), checked as when it is made."""
    return check_outbound_url(url, ("https", "http"), allow_private=allow_private, resolver=resolver)


def check_broker_url(url: str, *, allow_private: bool, resolver: Resolver | None = None) -> OutboundTarget:
    """An MQTT subscription's broker URL (mqtt or mqtts, credentials in it), checked as when it is made."""
    return check_outbound_url(url, ("mqtt", "mqtts"), allow_private=allow_private, resolver=resolver)
