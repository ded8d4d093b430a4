"""Matching a read plate against hot lists: exact, look-alike, one edit and partial, always state-aware.

The index is built once per list version and only read afterwards, so one instance can be shared by
threads and swapped whole when a list changes.

Definitions (the brute-force reference in the benchmark checks each one directly):
- an entry and a read are *state-compatible* when either has no state or both name the same state; an
  entry of another state never matches, whatever the plate (a stolen Montana motorcycle is not the
  Colorado SUV that happens to carry the same characters);
- `exact`: the read plate equals the entry plate;
- `lookalike`: equal after folding look-alike characters (`lookalike_key`), not identical;
- `one_edit`: the folded plates are one substitution, insertion or deletion apart, for entries of at
  least MIN_FUZZY_LENGTH characters (a 3-character entry one edit away from everything short is noise);
- `partial`: the entry is a pattern (`*` any run, `?` one character) that the folded read fills.
Per list only the best hit is kept: best kind, then the more urgent priority (lower number first;
none counts last), then the entry that came first in the list.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.plates import LOOKALIKE_GROUPS, WILDCARD_ANY, WILDCARD_ONE, is_pattern

MIN_FUZZY_LENGTH = 4
ANCHOR = 3  # a `*` pattern is found through its first (or last) 3 literal characters, then its regex
_NO_PRIORITY = 1 << 30
FOLD_TABLE = str.maketrans({ch: group[0] for group in LOOKALIKE_GROUPS for ch in group[1:]})


class MatchKind(StrEnum):
    EXACT = "exact"
    LOOKALIKE = "lookalike"
    ONE_EDIT = "one_edit"
    PARTIAL = "partial"


KIND_RANK = {MatchKind.EXACT: 0, MatchKind.LOOKALIKE: 1, MatchKind.ONE_EDIT: 2, MatchKind.PARTIAL: 3}


@dataclass(frozen=True, slots=True)
class Hit:
    list_id: str
    entry: HotListEntry
    kind: MatchKind


def fold(plate: str) -> str:
    """lookalike_key, through one str.translate (the matcher's hot path); wildcards pass through."""
    return plate.translate(FOLD_TABLE)


def one_edit_apart(a: str, b: str) -> bool:
    """True when `a` and `b` differ by exactly one substitution, insertion or deletion."""
    la, lb = len(a), len(b)
    if la == lb:
        return sum(x != y for x, y in zip(a, b)) == 1
    if abs(la - lb) != 1:
        return False
    if la > lb:
        a, b = b, a
    i = 0
    while i < len(a) and a[i] == b[i]:
        i += 1
    return a[i:] == b[i + 1:]


def pattern_regex(folded_pattern: str) -> re.Pattern:
    parts = []
    for ch in folded_pattern:
        parts.append(".*" if ch == WILDCARD_ANY else "." if ch == WILDCARD_ONE else re.escape(ch))
    return re.compile("".join(parts))


def _add(index: dict, key: str, i: int) -> None:
    # One int for the common single entry, a list only on a collision: the index holds millions of keys.
    cur = index.get(key)
    if cur is None:
        index[key] = i
    elif type(cur) is int:
        index[key] = [cur, i]
    else:
        cur.append(i)


FOLDED_ALPHABET = "".join(sorted({ch.translate(FOLD_TABLE) for ch in "ABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"}))


def _expand_from(key: str, start: int) -> list[str]:
    """A `?` pattern as keys with exactly one `?` left: any second `?` (after `start`) spelled out."""
    j = key.find(WILDCARD_ONE, start)
    if j < 0:
        return [key]
    return [key[:j] + ch + key[j + 1:] for ch in FOLDED_ALPHABET]


def _each(value) -> Iterable[int]:
    return (value,) if type(value) is int else value


class HotListMatcher:
    """An immutable index over the entries of several lists (one agency's).

    One edit through deletion neighbourhoods, in ONE dictionary: each entry is filed under its folded
    plate (as `i`) and, when it has MIN_FUZZY_LENGTH characters or more, under every folded plate it gives
    with one character deleted (as `~i`, negative). A read then looks up only its own key and its own
    deletions, one probe each:
    - its key finds entries equal to it (exact or look-alike) and entries one longer (the read lost a
      character);
    - each of its deletions finds entries one shorter (the read gained a character) and entries of the
      same length sharing that deletion (one substitution, confirmed by comparing the two, since a shared
      deletion can also be two edits apart).
    At a million entries the table is far larger than the CPU's caches and each probe is a memory miss,
    so the number of probes is what the rate depends on: a 7-character read costs 8.
    Partial patterns: those of fixed length with one or two `?` are filed as deletions of their first `?`
    (the second spelled out over the folded alphabet); the others under their first (or last) ANCHOR
    literal characters or, failing both, their longest literal run; every pattern candidate is confirmed
    by its regular expression."""

    def __init__(self) -> None:
        self._entries: list[HotListEntry] = []
        self._keys: list[str] = []  # each entry's folded plate
        self._list_of: list[int] = []
        self._list_ids: list[str] = []
        self._list_spans: list[tuple[int, int]] = []  # each list's entries are one contiguous run
        self._index: dict[str, int | list[int]] = {}  # folded plate -> i; folded plate less one char -> ~i
        self._patterns: set[int] = set()  # which entries are partial patterns
        self._heads: dict[str, int | list[int]] = {}  # the first ANCHOR characters of a `*` pattern
        self._tails: dict[str, int | list[int]] = {}  # ... or, failing that, its last ANCHOR
        self._segments: dict[str, int | list[int]] = {}  # longest literal run of the rest
        self._segment_lengths: tuple[int, ...] = ()
        self._regex: dict[int, re.Pattern] = {}
        self._star_patterns = False  # any pattern found through its literal runs rather than the index

    @classmethod
    def build(cls, entries_by_list: Mapping[str, Iterable[HotListEntry]]) -> HotListMatcher:
        m = cls()
        index = m._index
        for list_id, entries in entries_by_list.items():
            li = len(m._list_ids)
            m._list_ids.append(list_id)
            start = len(m._entries)
            for entry in entries:
                i = len(m._entries)
                key = fold(entry.plate)
                m._entries.append(entry)
                m._keys.append(key)
                m._list_of.append(li)
                if is_pattern(entry.plate):
                    m._file_pattern(key, i)
                    continue
                _add(index, key, i)
                if len(key) >= MIN_FUZZY_LENGTH:
                    for d in {key[:j] + key[j + 1:] for j in range(len(key))}:
                        _add(index, d, ~i)
            m._list_spans.append((start, len(m._entries)))
        m._segment_lengths = tuple(sorted({len(k) for k in m._segments}))
        m._star_patterns = bool(m._heads or m._tails or m._segments)
        return m

    def _file_pattern(self, key: str, i: int) -> None:
        self._patterns.add(i)
        self._regex[i] = pattern_regex(key)
        if WILDCARD_ANY not in key and key.count(WILDCARD_ONE) <= 2:
            first = key.index(WILDCARD_ONE)
            for k in _expand_from(key, first + 1):
                _add(self._index, k[:first] + k[first + 1:], ~i)
            return
        runs = re.split(r"[*?]+", key)
        if len(runs[0]) >= ANCHOR:
            _add(self._heads, runs[0][:ANCHOR], i)
        elif len(runs[-1]) >= ANCHOR:
            _add(self._tails, runs[-1][-ANCHOR:], i)
        else:
            _add(self._segments, max(runs, key=len), i)

    def __len__(self) -> int:
        return len(self._entries)

    def entries_by_list(self) -> dict[str, list[HotListEntry]]:
        """The lists this index was built from, to rebuild it with one list replaced."""
        return {lid: self._entries[a:b] for lid, (a, b) in zip(self._list_ids, self._list_spans)}

    def match(self, plate: str, state: str | None, now: datetime | None = None) -> list[Hit]:
        """Hits for a normalised read plate, best first, at most one per list. With `now`, entries not
        yet effective or already expired are skipped."""
        key = plate.translate(FOLD_TABLE)
        n = len(key)
        get = self._index.get
        at_key = get(key)
        found = list(map(get, [key[:j] + key[j + 1:] for j in range(n)]))
        some = found.count(None) != n  # a C-level count: nothing found is the usual answer
        if at_key is None and not some and not self._star_patterns:
            return []
        best: dict[int, tuple] = {}
        if at_key is not None:
            self._at_key(plate, key, at_key, best, state, now)
        if some:
            self._at_deletions(key, found, best, state, now)
        if self._star_patterns:
            self._match_patterns(key, best, state, now)
        if not best:
            return []
        ranked = sorted(best.values())
        return [Hit(self._list_ids[self._list_of[i]], self._entries[i], kind) for _rank, i, kind in ranked]

    def match_many(self, reads: Sequence[tuple[str, str | None]], now: datetime | None = None) -> list[list[Hit]]:
        """match() of each (plate, state), in order."""
        return [self.match(plate, state, now) for plate, state in reads]

    def _at_key(self, plate: str, key: str, found, best: dict, state: str | None, now: datetime | None) -> None:
        for v in _each(found):
            if v >= 0:  # the entry's plate folds to the read's
                kind = MatchKind.EXACT if self._entries[v].plate == plate else MatchKind.LOOKALIKE
                self._consider(best, v, kind, state, now)
            elif ~v not in self._patterns:  # the read lost a character (a pattern never fits a shorter read)
                self._consider(best, ~v, MatchKind.ONE_EDIT, state, now)

    def _at_deletions(self, key: str, found: list, best: dict, state: str | None, now: datetime | None) -> None:
        """What the read's deletion at position j found: entries one shorter (the read gained that
        character), or entries of its length with a deletion in common (a substitution at j?), or a
        fixed-length `?` pattern."""
        keys, patterns, shorter_ok = self._keys, self._patterns, len(key) - 1 >= MIN_FUZZY_LENGTH
        for j, values in enumerate(found):
            if values is None:
                continue
            for v in _each(values):
                if v >= 0:
                    if shorter_ok:
                        self._consider(best, v, MatchKind.ONE_EDIT, state, now)
                    continue
                i = ~v
                if i in patterns:
                    if self._regex[i].fullmatch(key):
                        self._consider(best, i, MatchKind.PARTIAL, state, now)
                    continue
                # The entry's deletion may have been at another position (then it is two edits away).
                other = keys[i]
                if other[j] != key[j] and other[:j] == key[:j] and other[j + 1:] == key[j + 1:]:
                    self._consider(best, i, MatchKind.ONE_EDIT, state, now)

    def _match_patterns(self, key: str, best: dict, state: str | None, now: datetime | None) -> None:
        n = len(key)
        candidates = [self._heads.get(key[:ANCHOR]), self._tails.get(key[-ANCHOR:])] if n >= ANCHOR else []
        for length in self._segment_lengths:
            if length <= n:
                candidates += [self._segments.get(key[j:j + length]) for j in range(n - length + 1)]
        for found in candidates:
            if found is not None:
                for i in _each(found):
                    if self._regex[i].fullmatch(key):
                        self._consider(best, i, MatchKind.PARTIAL, state, now)

    def _consider(self, best: dict, i: int, kind: MatchKind, state: str | None, now: datetime | None) -> None:
        entry = self._entries[i]
        if state is not None and entry.state is not None and entry.state != state:
            return
        if now is not None and (entry.effective_at is not None or entry.expires_at is not None) \
                and not entry.in_force(now):
            return
        priority = _NO_PRIORITY if entry.priority is None else entry.priority
        rank = (KIND_RANK[kind], priority, i)
        li = self._list_of[i]
        current = best.get(li)
        if current is None or rank < current[0]:
            best[li] = (rank, i, kind)
