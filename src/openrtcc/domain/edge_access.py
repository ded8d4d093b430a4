"""Announcement that what an edge box's plate reads may reach has changed, for every hub process's memory of it."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class EdgeAccessChanged:
    """Published after the change committed: a box revoked, a camera of a box changed, moved or withdrawn, a
    box's read source revoked. Every serving process forgets what it remembered of these boxes and sources
    before it takes their next batch. No edge ids nor source ids: forget everything."""

    edge_ids: tuple[str, ...] = ()
    source_ids: tuple[str, ...] = ()
    origin: str = ""  # the process that made the change: it forgot already and skips its own announcement
