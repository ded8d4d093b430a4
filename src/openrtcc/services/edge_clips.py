"""(being written: see the module's owner in the issue-4 work split)"""

from __future__ import annotations


def register_edge_handlers(hub, links) -> None:
    """Register this module's handlers for messages from edge boxes on `links`."""
