"""`rtcc edge enrol --code CODE`: trade the owner's one-time code for this box's id and key."""

from __future__ import annotations

import logging
import ssl

import httpx

from openrtcc import __version__
from openrtcc.domain.errors import InvalidInput
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.credentials import Credentials, credentials_path, save_credentials
from openrtcc.edge.hub_http import hub_client

log = logging.getLogger(__name__)


def _refusal(r: httpx.Response) -> str:
    try:
        return str(r.json().get("message") or r.text[:200])
    except ValueError:
        return r.text[:200] or f"HTTP {r.status_code}"


def enrol(config: EdgeConfig, code: str, *, software_version: str = __version__) -> Credentials:
    """Enrol with the hub and save the credentials (0600); InvalidInput says clearly what went wrong.
    Existing credentials are replaced only once the hub has issued new ones."""
    hub = config.edge.hub_url
    body = {"code": code.strip(), "name": config.edge.name, "software_version": software_version}
    try:
        with hub_client(config) as client:
            r = client.post("/api/edge/enrol", json=body)
    except httpx.ConnectError as exc:
        if isinstance(exc.__cause__, ssl.SSLError) or "CERTIFICATE" in str(exc).upper():
            raise InvalidInput(f"the hub at {hub} presented a certificate this box does not trust "
                               "(set [edge] hub_ca_file to the CA that signed it)", code="hub_untrusted") from None
        raise InvalidInput(f"cannot reach the hub at {hub}: {exc}", code="hub_unreachable") from None
    except httpx.HTTPError as exc:
        raise InvalidInput(f"enrolment with {hub} failed: {type(exc).__name__}: {exc}", code="hub_unreachable") from None
    if r.status_code != 201:
        raise InvalidInput(f"the hub refused the enrolment: {_refusal(r)}", code="enrolment_refused")
    doc = r.json()
    creds = Credentials(doc["edge_id"], doc["key"], hub)
    path = save_credentials(config, creds)
    log.info("enrolled as edge %s; credentials in %s", creds.edge_id, path)
    return creds


def is_enrolled(config: EdgeConfig) -> bool:
    return credentials_path(config).is_file()
