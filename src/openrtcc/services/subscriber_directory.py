"""The dissemination worker's view of the active subscribers: a SubscriberIndex rebuilt in the background when
subscribers change (or a minute has passed) and swapped in whole, so that matching never waits for a rebuild."""

from __future__ import annotations

import logging
import threading
import time
from collections.abc import Callable

from openrtcc.domain.dissemination import Subscriber
from openrtcc.domain.subscriber_index import SubscriberIndex

log = logging.getLogger(__name__)
MAX_AGE_S = 60.0  # rebuilt at least this often, for subscribers changed by another process


class SubscriberDirectory:
    def __init__(self, load: Callable[[], list[Subscriber]], max_age_s: float = MAX_AGE_S):
        self.load = load  # the active subscribers, as stored
        self.max_age_s = max_age_s
        self._index: SubscriberIndex | None = None
        self._built_at = 0.0
        self._wanted = 0  # generations: each change asks for one; a rebuild serves all asked before it began
        self._built = 0
        self._rebuilding = False
        self._cond = threading.Condition()

    def current(self) -> SubscriberIndex:
        """The index now (built here only the first time); a stale one starts a rebuild and is used meanwhile."""
        if self._index is None:
            with self._cond:
                wanted = self._wanted
            self._swap(self._load(), wanted)
        elif time.monotonic() - self._built_at > self.max_age_s:
            self.invalidate()
        return self._index

    def fresh(self, timeout: float = 30.0) -> SubscriberIndex:
        """The index with every change made so far (a bulletin, a preview: what the operator just saw)."""
        index = self.current()
        deadline = time.monotonic() + timeout
        with self._cond:
            wanted = self._wanted
            while self._built < wanted and time.monotonic() < deadline:
                self._cond.wait(max(0.0, deadline - time.monotonic()))
            return self._index or index

    def invalidate(self) -> None:
        with self._cond:
            self._wanted += 1
            if self._rebuilding:
                return  # the running rebuild sees the new generation and goes round again
            self._rebuilding = True
        threading.Thread(target=self._rebuild, name="subscriber-index", daemon=True).start()

    def _rebuild(self) -> None:
        while True:
            with self._cond:
                wanted = self._wanted
            try:
                self._swap(self._load(), wanted)
            except Exception:  # the old index stays in use; the next change or a minute tries again
                log.exception("dissemination: the subscriber index could not be rebuilt")
                with self._cond:
                    self._rebuilding = False
                    self._cond.notify_all()
                return
            with self._cond:
                if self._built >= self._wanted:
                    self._rebuilding = False
                    return

    def _load(self) -> SubscriberIndex:
        return SubscriberIndex(self.load())

    def _swap(self, index: SubscriberIndex, generation: int) -> None:
        with self._cond:
            self._index, self._built_at = index, time.monotonic()
            self._built = max(self._built, generation)
            self._cond.notify_all()
