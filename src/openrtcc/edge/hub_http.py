"""How the box reaches the hub: one TLS setting (the hub's CA from edge.toml, or the system's), one HTTP
client factory for reads, live segments and clip uploads, and the link's WebSocket address."""

from __future__ import annotations

import ssl
from urllib.parse import urlsplit

import httpx

from openrtcc.edge.config import EdgeConfig

CONNECT_TIMEOUT_S = 5.0
REQUEST_TIMEOUT_S = 30.0


def tls_context(config: EdgeConfig) -> ssl.SSLContext | None:
    """Verifying context for an https hub (certificate and host name always checked); None for loopback http."""
    if urlsplit(config.edge.hub_url).scheme != "https":
        return None
    ca = config.edge.hub_ca_file
    return ssl.create_default_context(cafile=str(ca) if ca else None)


def hub_client(config: EdgeConfig, key: str | None = None, *, timeout_s: float = REQUEST_TIMEOUT_S) -> httpx.Client:
    """An httpx client for the hub: base URL, the box's key as a Bearer token, TLS verified, no redirects."""
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    return httpx.Client(base_url=config.edge.hub_url, headers=headers, verify=tls_context(config) or True,
                        timeout=httpx.Timeout(timeout_s, connect=CONNECT_TIMEOUT_S), follow_redirects=False,
                        trust_env=False)


def link_url(config: EdgeConfig) -> str:
    parts = urlsplit(config.edge.hub_url)
    scheme = "wss" if parts.scheme == "https" else "ws"
    return f"{scheme}://{parts.netloc}{parts.path.rstrip('/')}/api/edge/link"
