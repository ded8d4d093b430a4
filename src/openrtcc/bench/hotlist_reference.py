"""The brute-force reference for the hot-list matcher: every entry checked with the plain definition of
each kind of match (no index, no shared helper of the matcher's), so that a miss of the index shows."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from fnmatch import fnmatchcase

from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.matching import MIN_FUZZY_LENGTH, MatchKind
from openrtcc.domain.plates import lookalike_key

RANK = [MatchKind.EXACT, MatchKind.LOOKALIKE, MatchKind.ONE_EDIT, MatchKind.PARTIAL]


def levenshtein(a: str, b: str) -> int:
    previous = list(range(len(b) + 1))
    for i, ca in enumerate(a, 1):
        current = [i]
        for j, cb in enumerate(b, 1):
            current.append(min(previous[j] + 1, current[j - 1] + 1, previous[j - 1] + (ca != cb)))
        previous = current
    return previous[-1]


def kind_of(entry: HotListEntry, plate: str, state: str | None, now: datetime | None) -> MatchKind | None:
    if state is not None and entry.state is not None and state != entry.state:
        return None
    if now is not None and ((entry.effective_at is not None and now < entry.effective_at)
                            or (entry.expires_at is not None and now >= entry.expires_at)):
        return None
    if "*" in entry.plate or "?" in entry.plate:
        # fnmatch's * and ? mean what a hot list's wildcards mean; plates hold no [ ].
        return MatchKind.PARTIAL if fnmatchcase(lookalike_key(plate), lookalike_key(entry.plate)) else None
    if entry.plate == plate:
        return MatchKind.EXACT
    if lookalike_key(entry.plate) == lookalike_key(plate):
        return MatchKind.LOOKALIKE
    if len(entry.plate) >= MIN_FUZZY_LENGTH and levenshtein(lookalike_key(entry.plate), lookalike_key(plate)) == 1:
        return MatchKind.ONE_EDIT
    return None


def brute_force_match(entries_by_list: Mapping[str, Iterable[HotListEntry]], plate: str, state: str | None,
                      now: datetime | None = None) -> list[tuple[str, int, MatchKind]]:
    """(list id, position of the entry in its list, kind), best first, one per list."""
    best = []
    for list_no, (list_id, entries) in enumerate(entries_by_list.items()):
        chosen = None
        for position, entry in enumerate(entries):
            kind = kind_of(entry, plate, state, now)
            if kind is None:
                continue
            key = (RANK.index(kind), 1 << 30 if entry.priority is None else entry.priority, list_no, position)
            if chosen is None or key < chosen[0]:
                chosen = (key, list_id, position, kind)
        if chosen is not None:
            best.append(chosen)
    return [(list_id, position, kind) for _key, list_id, position, kind in sorted(best, key=lambda c: c[0])]
