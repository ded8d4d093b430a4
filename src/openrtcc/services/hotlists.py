"""Hot lists: import (atomic), listing, the stale-feed alarm and the back-check of new entries."""

from __future__ import annotations

from openrtcc.services.hotlist_index import HotListIndex, hotlist_index

__all__ = ["HotListIndex", "hotlist_index"]
