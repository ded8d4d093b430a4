"""The in-memory hot-list index of each agency: built from the database, swapped whole after a change.

Matching never takes a lock: it reads `self._matchers[agency]` once, and that matcher is immutable, so
a read matched during an import sees the old list or the new one, never half of either. Loads and
swaps are serialised by one lock so that the last one to finish is always built from the newest data.

Several hub processes (city mode) each hold an index: the process that made a change announces it on the bus
(HotListsChanged, `announce`), and the others reload the agencies it touches in the background; the periodic
`sync` still catches up with any announcement that was lost.
"""

from __future__ import annotations

import logging
import threading
import uuid
from collections.abc import Callable, Iterable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import AbstractContextManager, contextmanager
from datetime import datetime

from openrtcc.domain.hotlists import HotListEntry, HotListsChanged
from openrtcc.domain.matching import Hit
from openrtcc.domain.ports import PlateMatcher
from openrtcc.domain.sharing import SharedList, applying_shared_lists
from openrtcc.services.hub import Hub

log = logging.getLogger(__name__)


class HotListIndex:
    def __init__(self, hub: Hub, reader: Callable[[], AbstractContextManager] | None = None):
        """`reader()` opens read access to the hot-list repository (bootstrap passes a snapshot that takes
        no write lock, so that a first match inside an open unit of work can load the index)."""
        self._hub = hub
        self._reader = reader or (lambda: _through_uow(hub))
        self._matchers: dict[str, PlateMatcher] = {}
        self._versions: dict[str, dict[str, int]] = {}  # agency -> list id -> version indexed
        self._until: dict[str, datetime | None] = {}  # agency -> when the first shared list's grant ends
        self._lock = threading.Lock()
        self.origin = uuid.uuid4().hex  # this index's name in its announcements
        self._reloader: ThreadPoolExecutor | None = None
        if hub.bus is not None:
            hub.bus.subscribe(HotListsChanged, self._changed_elsewhere)

    def match(self, agency_id: str, plate: str, state: str | None) -> list[Hit]:
        """Hits of a normalised plate (normalize_plate) against the agency's lists, now, best first."""
        return self.matcher(agency_id).match(plate, state, self._hub.clock.now())

    def match_many(self, agency_id: str, reads: Sequence[tuple[str, str | None]]) -> list[list[Hit]]:
        """match() of each (plate, state) of a batch, in one call to the index."""
        return self.matcher(agency_id).match_many(reads, self._hub.clock.now())

    def matcher(self, agency_id: str) -> PlateMatcher:
        matcher = self._matchers.get(agency_id)
        if matcher is None:
            return self.reload(agency_id, only_if_missing=True)
        until = self._until.get(agency_id)
        if until is not None and self._hub.clock.now() >= until:  # a shared list's grant ended: drop it now
            return self.reload(agency_id)
        return matcher

    def reload(self, agency_id: str, *, only_if_missing: bool = False) -> PlateMatcher:
        """Rebuild the agency's index from the database."""
        with self._lock:
            if only_if_missing and agency_id in self._matchers:
                return self._matchers[agency_id]
            return self._load(agency_id)

    def replace_list(self, agency_id: str, list_id: str, version: int, entries: Iterable[HotListEntry]) -> None:
        """After a committed import: the agency's index with one list's entries replaced, built from
        memory (the file just parsed) rather than read back from the database."""
        with self._lock:
            # Agencies that opted in to this list load its new version on their next match.
            for other, indexed in list(self._versions.items()):
                if other != agency_id and list_id in indexed:
                    self._matchers.pop(other, None)
            current = self._matchers.get(agency_id)
            if current is None:
                self._load(agency_id)
                return
            grouped = current.entries_by_list()
            grouped[list_id] = list(entries)
            versions = dict(self._versions.get(agency_id, {}))
            versions[list_id] = version
            self._swap(agency_id, grouped, versions)

    def announce(self, agency_id: str, list_id: str | None = None, version: int | None = None) -> None:
        """After a committed change this index has applied: the other processes' indexes reload theirs."""
        if self._hub.bus is None:
            return
        try:
            self._hub.bus.publish(HotListsChanged(agency_id, list_id, version, self.origin))
        except Exception as exc:  # the change stands; other processes catch up at their next sync
            log.warning("hot-list change of agency %s not announced (%s)", agency_id, type(exc).__name__)

    def _changed_elsewhere(self, event: HotListsChanged) -> None:
        """Another process changed lists: reload the agencies loaded here that it touches, off the bus's thread
        (a big list takes a moment to index; matching goes on with the old index meanwhile)."""
        if event.origin == self.origin:
            return
        stale = [aid for aid, indexed in list(self._versions.items())
                 if (aid == event.agency_id or (event.list_id is not None and event.list_id in indexed))
                 and (event.list_id is None or indexed.get(event.list_id) != event.version)]
        if not stale:
            return
        if self._reloader is None:
            self._reloader = ThreadPoolExecutor(1, thread_name_prefix="hotlist-reload")
        for aid in stale:
            self._reloader.submit(self._reload_quietly, aid)

    def _reload_quietly(self, agency_id: str) -> None:
        try:
            self.reload(agency_id)
        except Exception as exc:  # the database away a moment: the next sync or announcement tries again
            log.warning("hot-list index of agency %s not reloaded (%s)", agency_id, type(exc).__name__)

    def snapshot(self) -> AbstractContextManager:
        """Read access to the hot-list repository that takes no write lock."""
        return self._reader()

    def list_entries(self, agency_id: str, list_id: str, version: int) -> list[HotListEntry] | None:
        """The entries of a list as indexed, if the index holds exactly that version (else None)."""
        matcher = self._matchers.get(agency_id)
        if matcher is None or self._versions.get(agency_id, {}).get(list_id) != version:
            return None
        return matcher.entries_by_list().get(list_id, [])

    def sync(self) -> list[str]:
        """Reload the agencies whose lists changed in the database behind this process's back (an
        import by `rtcc hotlist import` in another process). Returns the agencies reloaded."""
        loaded = list(self._matchers)
        if not loaded:
            return []
        now = self._hub.clock.now()
        with self._reader() as repo:
            stored = {aid: _stored_versions(repo, aid, now)[0] for aid in loaded}
        changed = [aid for aid in loaded if stored[aid] != self._versions.get(aid)]
        for aid in changed:
            self.reload(aid)
        return changed

    def _load(self, agency_id: str) -> PlateMatcher:
        grouped: dict[str, list[HotListEntry]] = {}
        with self._reader() as repo:
            versions, shared = _stored_versions(repo, agency_id, self._hub.clock.now())
            for list_id, entry in repo.agency_entries(agency_id):
                grouped.setdefault(list_id, []).append(entry)
            for s, _until in shared:
                grouped[s.list_id] = list(repo.entries(s.source_agency_id, s.list_id))
        self._until[agency_id] = min((until for _s, until in shared), default=None)
        return self._swap(agency_id, grouped, versions)

    def _swap(self, agency_id: str, grouped: dict[str, list[HotListEntry]], versions: dict[str, int]):
        matcher = self._hub.matcher_factory(grouped)
        self._matchers[agency_id] = matcher  # one assignment: the swap readers see
        self._versions[agency_id] = versions
        log.info("hot-list index for agency %s: %s entries in %s lists", agency_id, len(matcher), len(grouped))
        return matcher


def _stored_versions(repo, agency_id: str, now: datetime) -> tuple[dict[str, int], list[tuple[SharedList, datetime]]]:
    """List id -> version of the agency's own lists and of the shared lists it opted in to that apply now."""
    versions = {row.id: row.version for row in repo.lists(agency_id)}
    shared = applying_shared_lists(repo.shared_lists(agency_id), agency_id, now)
    versions.update({s.list_id: s.version for s, _until in shared})
    return versions, shared


@contextmanager
def _through_uow(hub: Hub) -> Iterator:
    with hub.uow() as uow:
        yield uow.hotlists


def hotlist_index(hub: Hub) -> HotListIndex:
    """The hub's index (bootstrap puts one in hub.extras; a hub built otherwise gets one on first use)."""
    index = hub.extras.get("hotlists")
    if index is None:
        index = hub.extras.setdefault("hotlists", HotListIndex(hub))
    return index
