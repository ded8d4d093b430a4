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


class VectorBruteForce:
    """The same definitions over numpy arrays: every entry of a compatible state is compared, position by
    position, with each read (10^11 comparisons for the full benchmark, spread over processes).

    Only what the definitions themselves rule out is skipped: entries of another state, and plain entries
    whose length differs from the read's by more than one (no single edit bridges that). Partial entries
    hold at most one `*` (the benchmark generates no others); `?` is checked position by position."""

    def __init__(self, entries_by_list: Mapping[str, list[HotListEntry]], now: datetime):
        import numpy as np

        self.np, self.now, self.lists = np, now, list(entries_by_list)
        flat = [(li, pos, e) for li, entries in enumerate(entries_by_list.values()) for pos, e in enumerate(entries)]
        self.flat = flat
        self.groups: dict[tuple, dict] = {}
        buckets: dict[tuple, list[int]] = {}
        for i, (_li, _pos, e) in enumerate(flat):
            if now is not None and ((e.effective_at is not None and now < e.effective_at)
                                    or (e.expires_at is not None and now >= e.expires_at)):
                continue
            shape = ("pattern",) if ("*" in e.plate or "?" in e.plate) else ("plain", len(e.plate))
            buckets.setdefault((e.state, *shape), []).append(i)
        for key, idx in buckets.items():
            self.groups[key] = self._arrays(idx, pattern=key[1] == "pattern")

    def _arrays(self, idx: list[int], pattern: bool) -> dict:
        np = self.np
        keys = [lookalike_key(self.flat[i][2].plate) for i in idx]
        if not pattern:
            return {"idx": np.array(idx), "codes": np.array([[ord(c) for c in k] for k in keys], dtype=np.uint8)}
        pre, suf, star = [], [], []
        for k in keys:
            assert k.count("*") <= 1, "the vector reference takes at most one * per pattern"
            head, _, tail = k.partition("*")
            pre.append(head)
            suf.append(tail)
            star.append("*" in k)
        return {"idx": idx, "pre": pre, "suf": suf, "star": star,
                "pre_codes": _padded(np, pre), "suf_codes": _padded(np, suf, right=True),
                "pre_len": np.array([len(p) for p in pre]), "suf_len": np.array([len(s) for s in suf]),
                "star_arr": np.array(star)}

    def match(self, plate: str, state: str | None) -> list[tuple[str, int, MatchKind]]:
        np = self.np
        key = lookalike_key(plate)
        r = np.frombuffer(key.encode(), dtype=np.uint8)
        n = len(key)
        found: list[tuple[int, MatchKind]] = []
        for (st, *shape), g in self.groups.items():
            if state is not None and st is not None and st != state:
                continue
            if shape[0] == "pattern":
                found += [(i, MatchKind.PARTIAL) for i in _glob_hits(np, g, r, n)]
                continue
            length = shape[1]
            if length == n:
                diff = (g["codes"] != r).sum(axis=1)
                for i in g["idx"][diff == 0]:
                    found.append((i, MatchKind.EXACT if self.flat[i][2].plate == plate else MatchKind.LOOKALIKE))
                if length >= MIN_FUZZY_LENGTH:
                    found += [(i, MatchKind.ONE_EDIT) for i in g["idx"][diff == 1]]
            elif length >= MIN_FUZZY_LENGTH and abs(length - n) == 1:
                found += [(i, MatchKind.ONE_EDIT) for i in g["idx"][_one_deletion(np, g["codes"], r, length > n)]]
        return self._best(found)

    def _best(self, found: list[tuple[int, MatchKind]]) -> list[tuple[str, int, MatchKind]]:
        best: dict[int, tuple] = {}
        for i, kind in found:
            li, pos, e = self.flat[i]
            key = (RANK.index(kind), 1 << 30 if e.priority is None else e.priority, li, pos)
            if li not in best or key < best[li][0]:
                best[li] = (key, kind)
        return [(self.lists[key[2]], key[3], kind) for key, kind in sorted(best.values(), key=lambda b: b[0])]


def _padded(np, texts: list[str], right: bool = False):
    out = np.zeros((len(texts), 10), dtype=np.uint8)
    for row, t in enumerate(texts):
        codes = [ord(c) for c in t]
        if codes:
            if right:
                out[row, 10 - len(codes):] = codes
            else:
                out[row, :len(codes)] = codes
    return out


def _side_ok(np, codes, lengths, r_part, wildcard: int):
    """Each pattern side against the same-width slice of the read; `?` matches anything."""
    return ((codes == r_part) | (codes == wildcard) | (codes == 0)).all(axis=1)


def _glob_hits(np, g: dict, r, n: int) -> list[int]:
    fits = np.where(g["star_arr"], g["pre_len"] + g["suf_len"] <= n, g["pre_len"] == n)
    head = np.zeros(10, dtype=np.uint8)
    head[:n] = r
    tail = np.zeros(10, dtype=np.uint8)
    tail[10 - n:] = r
    q = ord("?")
    pre_ok = _side_ok(np, g["pre_codes"], g["pre_len"], head, q)
    suf_ok = _side_ok(np, g["suf_codes"], g["suf_len"], tail, q)
    return [g["idx"][j] for j in np.nonzero(fits & pre_ok & suf_ok)[0]]


def _one_deletion(np, codes, r, entry_longer: bool):
    """Rows where deleting one character of the longer string leaves the shorter one."""
    if entry_longer:
        long_, short = codes, np.broadcast_to(r, (codes.shape[0], r.shape[0]))
    else:
        long_, short = np.broadcast_to(r, (codes.shape[0], r.shape[0])), codes
    m = short.shape[1]
    prefix = np.cumprod(long_[:, :m] == short, axis=1).astype(bool)  # prefix[:, j]: first j+1 equal
    suffix = np.cumprod((long_[:, 1:] == short)[:, ::-1], axis=1)[:, ::-1].astype(bool)  # from j on, shifted
    ok = suffix[:, 0].copy()  # delete the first character
    for j in range(1, m + 1):
        left = prefix[:, j - 1]
        right = suffix[:, j] if j < m else np.ones(codes.shape[0], dtype=bool)
        ok |= left & right
    return ok


class NeighbourhoodReference:
    """An exhaustive reference that is cheap enough for every read: instead of comparing a read with each
    entry, it spells out every plate the definitions allow (the folded read itself, and every folded
    plate one substitution, insertion or deletion away: about 540 for a 7-character plate), looks each up
    among all the plain entries, and tests every partial entry's pattern against the read. Each candidate
    is then judged by `kind_of`, the plain definitions above. Completeness rests only on the definition
    of one edit, not on the matcher's deletion index."""

    def __init__(self, entries_by_list: Mapping[str, list[HotListEntry]], now: datetime):
        import re
        from fnmatch import translate

        self.now, self.lists = now, list(entries_by_list)
        self.flat = [(li, pos, e) for li, entries in enumerate(entries_by_list.values()) for pos, e in enumerate(entries)]
        self.by_key: dict[str, list[int]] = {}
        self.patterns: list[tuple[int, object]] = []
        alphabet = set()
        for i, (_li, _pos, e) in enumerate(self.flat):
            key = lookalike_key(e.plate)
            if "*" in e.plate or "?" in e.plate:
                self.patterns.append((i, re.compile(translate(key))))
            else:
                self.by_key.setdefault(key, []).append(i)
                alphabet.update(key)
        self.alphabet = sorted(alphabet)

    def neighbours(self, key: str) -> set[str]:
        out = {key}
        for j in range(len(key) + 1):
            for ch in self.alphabet:
                out.add(key[:j] + ch + key[j:])  # insertion
                if j < len(key):
                    out.add(key[:j] + ch + key[j + 1:])  # substitution
            if j < len(key):
                out.add(key[:j] + key[j + 1:])  # deletion
        return out

    def match(self, plate: str, state: str | None) -> list[tuple[str, int, MatchKind]]:
        key = lookalike_key(plate)
        candidates = [i for k in self.neighbours(key) for i in self.by_key.get(k, ())]
        candidates += [i for i, regex in self.patterns if regex.match(key)]
        best: dict[int, tuple] = {}
        for i in candidates:
            li, pos, e = self.flat[i]
            kind = kind_of(e, plate, state, self.now)
            if kind is None:
                continue
            rank = (RANK.index(kind), 1 << 30 if e.priority is None else e.priority, li, pos)
            if li not in best or rank < best[li][0]:
                best[li] = (rank, kind)
        return [(self.lists[r[2]], r[3], kind) for r, kind in sorted(best.values(), key=lambda b: b[0])]
