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
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from datetime import datetime
from enum import StrEnum

from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.plates import LOOKALIKE_GROUPS, WILDCARD_ANY, WILDCARD_ONE, is_pattern

MIN_FUZZY_LENGTH = 4
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

    One edit without verification: each entry of MIN_FUZZY_LENGTH or more is filed under its folded plate
    with one position blanked (`AB?123`). A read one substitution away blanks the same position; a read
    that lost a character gives the same key when the blank is put back where the character was; a read
    that gained one is, less that character, an entry's plate. Partial patterns: those of fixed length
    with one or two `?` are filed as blanked keys too (the second `?` expanded over the folded alphabet);
    the others under the literal run they start or end with (`^ABC`, `$123`) or, failing both, their
    longest literal run, and are confirmed by their regular expression."""

    def __init__(self) -> None:
        self._entries: list[HotListEntry] = []
        self._list_of: list[int] = []
        self._list_ids: list[str] = []
        self._list_spans: list[tuple[int, int]] = []  # each list's entries are one contiguous run
        self._by_key: dict[str, int | list[int]] = {}  # folded plate -> entries
        self._blanked: dict[str, int | list[int]] = {}  # folded plate with one position blanked -> entries
        self._patterns: set[int] = set()  # which entries are partial patterns
        self._anchored: dict[str, int | list[int]] = {}  # "^run" / "$run" of the other patterns
        self._anchor_lengths: tuple[tuple[int, ...], tuple[int, ...]] = ((), ())
        self._segments: dict[str, int | list[int]] = {}  # longest literal run of the rest
        self._segment_lengths: tuple[int, ...] = ()
        self._regex: dict[int, re.Pattern] = {}

    @classmethod
    def build(cls, entries_by_list: Mapping[str, Iterable[HotListEntry]]) -> HotListMatcher:
        m = cls()
        for list_id, entries in entries_by_list.items():
            li = len(m._list_ids)
            m._list_ids.append(list_id)
            start = len(m._entries)
            for entry in entries:
                i = len(m._entries)
                m._entries.append(entry)
                m._list_of.append(li)
                key = fold(entry.plate)
                if is_pattern(entry.plate):
                    m._file_pattern(key, i)
                    continue
                _add(m._by_key, key, i)
                if len(key) >= MIN_FUZZY_LENGTH:
                    for d in {key[:j] + WILDCARD_ONE + key[j + 1:] for j in range(len(key))}:
                        _add(m._blanked, d, i)
            m._list_spans.append((start, len(m._entries)))
        heads = {len(k) - 1 for k in m._anchored if k[0] == "^"}
        tails = {len(k) - 1 for k in m._anchored if k[0] == "$"}
        m._anchor_lengths = (tuple(sorted(heads)), tuple(sorted(tails)))
        m._segment_lengths = tuple(sorted({len(k) for k in m._segments}))
        return m

    def _file_pattern(self, key: str, i: int) -> None:
        self._patterns.add(i)
        blanks = key.count(WILDCARD_ONE)
        if WILDCARD_ANY not in key and blanks <= 2:
            first = key.index(WILDCARD_ONE)
            for k in _expand_from(key, first + 1):
                _add(self._blanked, k, i)
            return
        self._regex[i] = pattern_regex(key)
        runs = re.split(r"[*?]+", key)
        if len(runs[0]) >= 3:
            _add(self._anchored, "^" + runs[0], i)
        elif len(runs[-1]) >= 3:
            _add(self._anchored, "$" + runs[-1], i)
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
        best: dict[int, tuple] = {}
        found = self._by_key.get(key)
        if found is not None:
            for i in _each(found):
                kind = MatchKind.EXACT if self._entries[i].plate == plate else MatchKind.LOOKALIKE
                self._consider(best, i, kind, state, now)
        n = len(key)
        heads = [key[:j] for j in range(n + 1)]
        blanked = self._blanked.get
        # A substitution blanks the differing position in both. An exact entry is met here too, as a
        # one-edit hit that ranks below the exact hit already held; a `?` pattern filed under the same
        # blanked key is a partial hit.
        for found in [f for f in map(blanked, [heads[j] + "?" + key[j + 1:] for j in range(n)]) if f is not None]:
            for i in _each(found):
                self._consider(best, i, MatchKind.PARTIAL if i in self._patterns else MatchKind.ONE_EDIT, state, now)
        # The read lost a character: put a blank back where it was (patterns do not match a shorter read).
        for found in [f for f in map(blanked, [heads[j] + "?" + key[j:] for j in range(n + 1)]) if f is not None]:
            for i in _each(found):
                if i not in self._patterns:
                    self._consider(best, i, MatchKind.ONE_EDIT, state, now)
        if n - 1 >= MIN_FUZZY_LENGTH:  # the read gained a character: without it, it is an entry's plate
            by_key = self._by_key.get
            for found in [f for f in map(by_key, [heads[j] + key[j + 1:] for j in range(n)]) if f is not None]:
                for i in _each(found):
                    self._consider(best, i, MatchKind.ONE_EDIT, state, now)
        if self._regex:
            self._match_patterns(key, best, state, now)
        if not best:
            return []
        ranked = sorted(best.values())
        return [Hit(self._list_ids[self._list_of[i]], self._entries[i], kind) for _rank, i, kind in ranked]

    def _match_patterns(self, key: str, best: dict, state: str | None, now: datetime | None) -> None:
        n, (heads, tails) = len(key), self._anchor_lengths
        candidates = [self._anchored.get("^" + key[:ln]) for ln in heads if ln <= n]
        candidates += [self._anchored.get("$" + key[n - ln:]) for ln in tails if ln <= n]
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
