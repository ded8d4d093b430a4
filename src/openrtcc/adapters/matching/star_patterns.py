"""Partial plates that the key table cannot hold (a `*`, or more than two `?`): found through an anchor,
as HotListMatcher finds them, with the batch's reads screened on arrays first."""

from __future__ import annotations

import re
from collections.abc import Sequence

import numpy as np

from openrtcc.adapters.matching.packed_keys import BITS, Packed, pack
from openrtcc.domain.matching import ANCHOR, FOLD_TABLE, pattern_regex
from openrtcc.domain.plates import MAX_PLATE_LENGTH


HEAD, TAIL, SEGMENT = 0, 1, 2
_LENGTH_AT, _PLACE_AT = 50, 54  # an anchor's packed key (<= 50 bits) | its length | where it must stand


class StarPatterns:
    """Each pattern is filed under an anchor: its leading literal run when that has ANCHOR characters or
    more, else its trailing one, else its longest literal run, which must stand at the read's start, end,
    or anywhere. A read filled by the pattern holds its anchor there, so a batch's reads are screened with
    one binary search of all their slices among the anchors; a pattern that is its anchor and a `*`
    (`ABC*`, `*123`, `*AB1*`) is then matched, the others are confirmed by their regular expression."""

    def __init__(self, patterns: dict[int, str]):
        self._regex = {i: pattern_regex(key) for i, key in patterns.items()}
        filed: dict[tuple[int, str], list[int]] = {}
        self._complete: set[int] = set()
        for i, key in patterns.items():
            place, anchor = _anchor(key)
            filed.setdefault((place, anchor), []).append(i)
            if key == {HEAD: anchor + "*", TAIL: "*" + anchor, SEGMENT: "*" + anchor + "*"}[place]:
                self._complete.add(i)
        self._filed = filed
        self._lengths = {place: sorted({len(a) for p, a in filed if p == place}) for place in (HEAD, TAIL, SEGMENT)}
        anchors = list(filed)
        packed = pack([a for _p, a in anchors], MAX_PLATE_LENGTH).keys if anchors else np.zeros(0, np.uint64)
        values = packed | _tag([len(a) for _p, a in anchors], [p for p, _a in anchors])
        order = np.argsort(values)
        self._values = values[order]
        lists = [filed[anchors[k]] for k in order.tolist()]
        self._starts = np.cumsum([0] + [len(x) for x in lists])
        self._entries = np.array([i for x in lists for i in x], dtype=np.int64)
        self._matched = np.array([i in self._complete for x in lists for i in x], dtype=bool)  # no regex needed
        # The slices of a read to look up: (length, start; -1 for a tail, which ends where the read ends).
        plan = [(n, 0, HEAD) for n in self._lengths[HEAD]] + [(n, -1, TAIL) for n in self._lengths[TAIL]]
        plan += [(n, j, SEGMENT) for n in self._lengths[SEGMENT] for j in range(MAX_PLATE_LENGTH + 2 - n)]
        self._slice_length = np.array([n for n, _j, _p in plan], dtype=np.int64)
        self._slice_start = np.array([j for _n, j, _p in plan], dtype=np.int64)
        self._slice_mask = np.array([(1 << (BITS * n)) - 1 for n, _j, _p in plan], dtype=np.uint64)
        self._slice_tag = _tag([n for n, _j, _p in plan], [p for _n, _j, p in plan])

    def __bool__(self) -> bool:
        return bool(self._regex)

    @property
    def nbytes(self) -> int:
        return self._values.nbytes + self._starts.nbytes + self._entries.nbytes + self._matched.nbytes

    def candidates(self, plates: Sequence[str], packed: Packed) -> tuple[np.ndarray, np.ndarray]:
        """(read, entry) for each read a pattern fills."""
        if not self._regex:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        read, filed = self._screen(packed)
        entry = self._entries[filed]
        check = np.flatnonzero(~self._matched[filed])
        ok = np.ones(len(read), dtype=bool)
        for k in check.tolist():
            ok[k] = self._regex[int(entry[k])].fullmatch(plates[int(read[k])].translate(FOLD_TABLE)) is not None
        if packed.fits.all():
            return read[ok], entry[ok]
        long_read, long_entry = self._too_long(plates, packed)
        return np.concatenate((read[ok], long_read)), np.concatenate((entry[ok], long_entry))

    def filled_by(self, plate: str) -> list[int]:
        """The patterns one read fills, through dictionary lookups of its slices (no per-call numpy cost)."""
        if not self._regex:
            return []
        key = plate.translate(FOLD_TABLE)
        n, filed, found = len(key), self._filed, []
        for length in self._lengths[HEAD]:
            found += filed.get((HEAD, key[:length]), ()) if n >= length else ()
        for length in self._lengths[TAIL]:
            found += filed.get((TAIL, key[-length:]), ()) if n >= length else ()
        for length in self._lengths[SEGMENT]:
            for j in range(n - length + 1):
                found += filed.get((SEGMENT, key[j:j + length]), ())
        return [i for i in found if i in self._complete or self._regex[i].fullmatch(key)]

    def _screen(self, packed: Packed) -> tuple[np.ndarray, np.ndarray]:
        """(read, position in self._entries) for every read slice that is an anchor in its place."""
        keys, lengths = packed.keys, packed.lengths[:, None]
        length, start = self._slice_length, self._slice_start
        start = np.where(start < 0, lengths - length, start)  # a tail ends where the read ends
        valid = (start >= 0) & (start + length <= lengths) & packed.fits[:, None]
        shift = (np.maximum(start, 0) * BITS).astype(np.uint64)
        values = (((keys[:, None] >> shift) & self._slice_mask) | self._slice_tag).ravel()
        at = np.minimum(np.searchsorted(self._values, values), len(self._values) - 1)
        found = np.flatnonzero(valid.ravel() & (self._values[at] == values))
        k = at[found]
        count = self._starts[k + 1] - self._starts[k]
        which = np.repeat(found // length.shape[0], count)
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        return which, np.repeat(self._starts[k], count) + offset

    def _too_long(self, plates: Sequence[str], packed: Packed) -> tuple[np.ndarray, np.ndarray]:
        """Reads too long to pack (never normalised ones): every pattern's regular expression."""
        reads, entries = [], []
        for r in np.flatnonzero(~packed.fits).tolist():
            key = plates[r].translate(FOLD_TABLE)
            for i, regex in self._regex.items():
                if regex.fullmatch(key):
                    reads.append(r)
                    entries.append(i)
        return np.array(reads, dtype=np.int64), np.array(entries, dtype=np.int64)


def _anchor(key: str) -> tuple[int, str]:
    runs = re.split(r"[*?]+", key)
    if len(runs[0]) >= ANCHOR:
        return HEAD, runs[0]
    if len(runs[-1]) >= ANCHOR:
        return TAIL, runs[-1]
    return SEGMENT, max(runs, key=len)


def _tag(length, place) -> np.ndarray:
    return (np.asarray(length, dtype=np.uint64) << np.uint64(_LENGTH_AT)) \
        | (np.asarray(place, dtype=np.uint64) << np.uint64(_PLACE_AT))
