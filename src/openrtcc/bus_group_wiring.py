"""Background work that holds a process's share of a bus group (work done once per event across processes).

A group is joined when the background work of the process starts and left when it stops, so that only the
long-running processes of a role take events from it: a one-off `rtcc` command that builds a hub never takes
(and then loses the effect of) an event meant for a worker.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence

from openrtcc.domain.ports import EventBus


class GroupSubscription:
    """start() subscribes each (event type, handler) with the group; stop() leaves it."""

    def __init__(self, name: str, bus: EventBus, group: str, handlers: Sequence[tuple[type, Callable[[object], None]]]):
        self.name = name
        self.bus = bus
        self.group = group
        self.handlers = tuple(handlers)
        self._leave: list[Callable[[], None]] = []

    def start(self) -> None:
        self._leave = [self.bus.subscribe(t, h, group=self.group) for t, h in self.handlers]

    def stop(self) -> None:
        leave, self._leave = self._leave, []
        for unsubscribe in leave:
            unsubscribe()
