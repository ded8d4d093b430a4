"""Wires audit anchoring into a hub: the hub's Ed25519 signing key, the anchor folder and the daily anchor."""

from __future__ import annotations

from pathlib import Path

from openrtcc.adapters.signing import Ed25519Signer, load_or_create_signer
from openrtcc.adapters.storage.anchor_files import AnchorFiles
from openrtcc.config import Settings
from openrtcc.periodic import PeriodicTask
from openrtcc.services.audit_anchors import make_anchor
from openrtcc.services.hub import Hub

# The anchor is made once per UTC day (make_anchor is idempotent per day), so the task only has to look often
# enough that the day's anchor comes soon after midnight, and after a restart without waiting a whole day.
CHECK_EVERY_S = 3600.0


def signing_key_path(settings: Settings) -> Path:
    return settings.signing_key_file or settings.data_dir / "hub-signing.key"


def anchor_dir(settings: Settings) -> Path:
    return settings.anchor_dir or settings.data_dir / "anchors"


def load_signer(settings: Settings) -> Ed25519Signer:
    return load_or_create_signer(signing_key_path(settings))


def wire(hub: Hub, settings: Settings) -> None:
    """Puts the signing key in hub.extras["signer"], the anchor folder in hub.extras["anchor_publisher"] and
    the daily anchor in hub.extras["background"]."""
    hub.extras["signer"] = load_signer(settings)
    hub.extras["anchor_publisher"] = AnchorFiles(anchor_dir(settings))
    if settings.anchor_interval_s > 0:
        hub.extras["background"].append(PeriodicTask("audit-anchor", min(settings.anchor_interval_s, CHECK_EVERY_S),
                                                     lambda: make_anchor(hub)))
