"""The subscriber directory: matching never waits for a rebuild; a fresh view waits for every change so far."""

from __future__ import annotations

import threading

from openrtcc.services.subscriber_directory import SubscriberDirectory
from tests.unit.test_subscriber_index import notice, sub


class HeldStore:
    """The directory's source of subscribers, able to hold a rebuild until the test lets it go."""

    def __init__(self):
        self.rows: list = []
        self.gate = threading.Event()
        self.gate.set()
        self.loads = 0

    def load(self) -> list:
        self.gate.wait(10)
        self.loads += 1
        return list(self.rows)


def test_a_rebuild_runs_beside_matching_and_fresh_waits_for_it():
    store = HeldStore()
    d = SubscriberDirectory(store.load)
    assert d.current().matching(notice()) == []  # the first build is made at once
    store.gate.clear()
    store.rows.append(sub("late"))
    d.invalidate()
    assert d.current().matching(notice()) == []  # the old index answers while the new one is built
    store.gate.set()
    assert [s.id for s in d.fresh(10).matching(notice())] == ["late"]
    store.rows.append(sub("later"))
    d.invalidate()
    d.invalidate()  # changes during a rebuild are served by one more round, not lost
    assert {s.id for s in d.fresh(10).matching(notice())} == {"late", "later"}
    assert store.loads <= 4
