"""Events as a bus subscriber hears them, and the audit trail's records of one action: for asserting that an
announcement came after its commit and that every refusal left a record."""

from __future__ import annotations


class Heard:
    """Events as a subscriber gets them, each checked against the database at the moment it arrives: an
    event published before its commit would find nothing there."""

    def __init__(self, hub, event_type, lookup):
        self.events, self.committed = [], []
        hub.bus.subscribe(event_type, self._on)
        self.hub, self.lookup = hub, lookup

    def _on(self, event):
        self.events.append(event)
        with self.hub.uow() as uow:
            self.committed.append(self.lookup(uow, event))
            uow.rollback()


def audit_records(hub, action: str) -> list:
    with hub.uow() as uow:
        found = [r for r in uow.audit.iter_records() if r.action == action]
        uow.rollback()
    return found
