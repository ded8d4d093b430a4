"""The hot-list matcher for batches: the same hits as domain.matching.HotListMatcher, found with numpy over
packed keys, many reads per call."""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime

import numpy as np

from openrtcc.adapters.matching.packed_keys import (
    UNKNOWN,
    KeyTable,
    Packed,
    delete_one,
    deletions,
    pack,
    pack_one,
)
from openrtcc.adapters.matching.star_patterns import StarPatterns
from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.matching import FOLDED_ALPHABET, KIND_RANK, MIN_FUZZY_LENGTH, Hit, fold
from openrtcc.domain.plates import MAX_PLATE_LENGTH, WILDCARD_ANY, WILDCARD_ONE, is_pattern

# An item of the key table: entry << 11 | character << 6 | position << 2 | role, the role saying what the
# entry filed under the key: its plate, its plate less the character at `position` (that character kept),
# or, for a fixed-length `?` pattern, the pattern less its first `?` (at `position`; a second `?` spelled
# out over the folded alphabet).
PLATE, DELETION, FILLED = 0, 1, 2
_POSITION_AT, _CHAR_AT, _ENTRY_AT = 2, 6, 11
READ_WIDTH = MAX_PLATE_LENGTH + 1  # a read one longer than the longest entry is still one deletion from it
FEW = 16  # smaller batches are matched a read at a time: below this, numpy's per-call cost outweighs its speed
KINDS = sorted(KIND_RANK, key=KIND_RANK.get)
EXACT, LOOKALIKE, ONE_EDIT, PARTIAL = range(4)
assert [KIND_RANK[k] for k in KINDS] == [EXACT, LOOKALIKE, ONE_EDIT, PARTIAL]
_NO_PRIORITY = 1 << 30
_NO_STATE = 0
_OTHER_STATE = -1  # a read's state that no entry has


class PackedHotListIndex:
    """An immutable index over the entries of several lists, matched a batch of reads at a time.

    The definitions and the deletion neighbourhoods are HotListMatcher's, but over packed keys: a batch's
    keys and deletions come from bit operations and are probed in one KeyTable lookup. A deletion the read
    shares with an entry of its length is one substitution exactly when both deleted the same position and
    the deleted characters differ, and both are in the item, so the many entries two edits away are
    dropped without reading them. Only hits, `*` pattern candidates and entries with a validity window
    are handled one by one. Entries must be normalised (normalize_plate / normalize_plate_pattern):
    build refuses others."""

    def __init__(self, entries_by_list: Mapping[str, Iterable[HotListEntry]]):
        self._list_ids: list[str] = []
        self._list_spans: list[tuple[int, int]] = []
        self._entries: list[HotListEntry] = []
        for list_id, entries in entries_by_list.items():
            start = len(self._entries)
            self._entries.extend(entries)
            self._list_ids.append(list_id)
            self._list_spans.append((start, len(self._entries)))
        self._list_of = np.repeat(np.arange(len(self._list_ids), dtype=np.int32),
                                  [b - a for a, b in self._list_spans])
        entries = self._entries
        self._state_codes = {s: k for k, s in enumerate(sorted({e.state for e in entries if e.state is not None}), 1)}
        self._states = np.array([self._state_codes.get(e.state, _NO_STATE) for e in entries], dtype=np.int32)
        self._priority = np.array([_NO_PRIORITY if e.priority is None else e.priority for e in entries],
                                  dtype=np.int64)
        self._windowed = np.array([e.effective_at is not None or e.expires_at is not None for e in entries],
                                  dtype=bool)
        self._file_entries([e.plate for e in entries])

    @classmethod
    def build(cls, entries_by_list: Mapping[str, Iterable[HotListEntry]]) -> PackedHotListIndex:
        return cls(entries_by_list)

    def _file_entries(self, plates: list[str]) -> None:
        patterns = np.fromiter(map(is_pattern, plates), dtype=bool, count=len(plates))
        plain = np.flatnonzero(~patterns)
        packed = pack([plates[i] for i in plain], MAX_PLATE_LENGTH)
        _refuse_unnormalised(packed, [plates[i] for i in plain])
        self._raw = np.zeros(len(plates), dtype=np.uint64)  # unfolded keys: exact or look-alike
        self._raw[plain] = packed.raw
        deleted, inside = deletions(packed)
        inside &= (packed.lengths >= MIN_FUZZY_LENGTH)[:, None]
        rows, position = np.nonzero(inside)
        keys = [packed.keys, deleted[inside]]
        items = [_item(plain, PLATE), _item(plain[rows], DELETION, position, packed.codes[rows, position])]
        star: dict[int, str] = {}
        for i in np.flatnonzero(patterns).tolist():
            key = fold(plates[i])
            literal = key.replace(WILDCARD_ANY, "").replace(WILDCARD_ONE, "A")
            _refuse_unnormalised(pack([literal], MAX_PLATE_LENGTH), [plates[i]])
            if WILDCARD_ANY in key or key.count(WILDCARD_ONE) > 2:
                star[i] = key
                continue
            first = key.index(WILDCARD_ONE)
            second = key.find(WILDCARD_ONE, first + 1)
            spelled = [key] if second < 0 else [key[:second] + ch + key[second + 1:] for ch in FOLDED_ALPHABET]
            keys.append(pack([k[:first] + k[first + 1:] for k in spelled], MAX_PLATE_LENGTH).keys)
            items.append(np.full(len(spelled), _item(np.array([i]), FILLED, first)[0]))
        self._stars = StarPatterns(star)
        self._table = KeyTable(np.concatenate(keys), np.concatenate(items))

    def __len__(self) -> int:
        return len(self._entries)

    @property
    def nbytes(self) -> int:
        """Bytes held in numpy arrays (the entries themselves not counted)."""
        arrays = (self._list_of, self._raw, self._states, self._priority, self._windowed)
        return self._table.nbytes + self._stars.nbytes + sum(a.nbytes for a in arrays)

    def entries_by_list(self) -> dict[str, list[HotListEntry]]:
        return {lid: self._entries[a:b] for lid, (a, b) in zip(self._list_ids, self._list_spans)}

    def match(self, plate: str, state: str | None, now: datetime | None = None) -> list[Hit]:
        """One read's hits, probing the same table one key at a time in Python: a batch's arrays would cost
        a few dozen numpy calls for the one read."""
        n = len(plate)
        if n > READ_WIDTH:  # never a normalised plate; only partial plates can take it
            return self._match_batch([(plate, state)], now)[0]
        key, codes = pack_one(plate)
        found: list[tuple[int, int]] = []
        if 0 < n <= MAX_PLATE_LENGTH:
            for item in self._table.get(key):
                entry, role = item >> _ENTRY_AT, item & 3
                if role == PLATE:
                    found.append((entry, EXACT if self._entries[entry].plate == plate else LOOKALIKE))
                elif role == DELETION:
                    found.append((entry, ONE_EDIT))
        for j in range(n) if n >= MIN_FUZZY_LENGTH else ():
            for item in self._table.get(delete_one(key, j)):
                entry, role = item >> _ENTRY_AT, item & 3
                if role == PLATE:
                    if n - 1 >= MIN_FUZZY_LENGTH:
                        found.append((entry, ONE_EDIT))
                elif (item >> _POSITION_AT) & 15 == j:
                    if role == FILLED:
                        found.append((entry, PARTIAL))
                    elif (item >> _CHAR_AT) & 31 != codes[j]:
                        found.append((entry, ONE_EDIT))
        found += [(entry, PARTIAL) for entry in self._stars.filled_by(plate)]
        return self._best_of_one(found, state, now) if found else []

    def _best_of_one(self, found: list[tuple[int, int]], state: str | None, now: datetime | None) -> list[Hit]:
        best: dict[int, tuple[int, int, int]] = {}
        for i, kind in found:
            entry = self._entries[i]
            if state is not None and entry.state is not None and entry.state != state:
                continue
            if now is not None and self._windowed[i] and not entry.in_force(now):
                continue
            rank = (kind, _NO_PRIORITY if entry.priority is None else entry.priority, i)
            li = int(self._list_of[i])
            if li not in best or rank < best[li]:
                best[li] = rank
        ranked = sorted((rank, li) for li, rank in best.items())
        return [Hit(self._list_ids[li], self._entries[i], KINDS[kind]) for (kind, _p, i), li in ranked]

    def match_many(self, reads: Sequence[tuple[str, str | None]], now: datetime | None = None) -> list[list[Hit]]:
        """Hits of each read (a normalised plate and its state or None), as HotListMatcher.match gives them."""
        if len(reads) < FEW:
            return [self.match(plate, state, now) for plate, state in reads]
        return self._match_batch(reads, now)

    def _match_batch(self, reads: Sequence[tuple[str, str | None]], now: datetime | None) -> list[list[Hit]]:
        plates = [plate for plate, _state in reads]
        packed = pack(plates, READ_WIDTH)
        read, entry, kind = self._probe(packed)
        if self._stars:
            star_read, star_entry = self._stars.candidates(plates, packed)
            read = np.concatenate((read, star_read))
            entry = np.concatenate((entry, star_entry))
            kind = np.concatenate((kind, np.full(len(star_read), PARTIAL, dtype=np.int8)))
        if not len(read):
            return [[] for _ in reads]
        codes = self._state_codes
        states = np.array([_NO_STATE if s is None else codes.get(s, _OTHER_STATE) for _p, s in reads], np.int32)
        keep = self._compatible(read, entry, states, now)
        return self._assemble(len(reads), read[keep], entry[keep], kind[keep])

    def _probe(self, packed: Packed) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(read, entry, kind rank) of the candidates that match by plate."""
        usable = packed.fits & (packed.lengths > 0)
        deleted, inside = deletions(packed)
        inside &= (usable & (packed.lengths >= MIN_FUZZY_LENGTH))[:, None]
        own = np.flatnonzero(usable & (packed.lengths <= MAX_PLATE_LENGTH))
        del_read, del_position = np.nonzero(inside)
        which, items = self._table.find(np.concatenate((packed.keys[own], deleted[inside])))
        if not len(items):
            return which, items, np.zeros(0, dtype=np.int8)
        role = items & 3
        entry = items >> _ENTRY_AT
        kind = np.full(len(items), -1, dtype=np.int8)
        at_own = which < len(own)
        # The read's own key: entries folding to it, and entries one longer (the read lost a character).
        k = np.flatnonzero(at_own & (role == PLATE))
        kind[k] = np.where(self._raw[entry[k]] == packed.raw[own[which[k]]], EXACT, LOOKALIKE)
        kind[at_own & (role == DELETION)] = ONE_EDIT
        # Its deletions: entries one shorter (it gained a character), entries of its length that deleted
        # the same position (a substitution when the characters deleted differ), fixed `?` patterns.
        k = np.flatnonzero(~at_own)
        d = which[k] - len(own)
        r, j = del_read[d], del_position[d]
        same_place = ((items[k] >> _POSITION_AT) & 15) == j
        other_char = ((items[k] >> _CHAR_AT) & 31).astype(np.uint64) != packed.codes[r, j]
        role_k = role[k]
        kind[k[(role_k == PLATE) & (packed.lengths[r] - 1 >= MIN_FUZZY_LENGTH)]] = ONE_EDIT
        kind[k[(role_k == DELETION) & same_place & other_char]] = ONE_EDIT
        kind[k[(role_k == FILLED) & same_place]] = PARTIAL
        read = np.concatenate((own, del_read))[which]
        ok = kind >= 0
        return read[ok], entry[ok], kind[ok]

    def _compatible(self, read, entry, states, now: datetime | None) -> np.ndarray:
        """State-compatible and, with `now`, in force (the window checked by the entry itself: few have one)."""
        es, rs = self._states[entry], states[read]
        keep = (es == _NO_STATE) | (rs == _NO_STATE) | (es == rs)
        if now is not None:
            for k in np.flatnonzero(keep & self._windowed[entry]).tolist():
                keep[k] = self._entries[int(entry[k])].in_force(now)
        return keep

    def _assemble(self, n: int, read, entry, kind) -> list[list[Hit]]:
        """Each read's candidates best first (kind, priority, entry order), the first per list kept."""
        out: list[list[Hit]] = [[] for _ in range(n)]
        if not len(read):
            return out
        order = np.lexsort((entry, self._priority[entry], kind, read))
        read, entry, kind = read[order], entry[order], kind[order]
        lists = self._list_of[entry]
        # np.unique's index is each (read, list)'s first place in that order: its best candidate.
        _pairs, first = np.unique(read * len(self._list_ids) + lists, return_index=True)
        first.sort()
        ids, entries = self._list_ids, self._entries
        for r, i, k, li in zip(read[first].tolist(), entry[first].tolist(), kind[first].tolist(),
                               lists[first].tolist()):
            out[r].append(Hit(ids[li], entries[i], KINDS[k]))
        return out


def _item(entry: np.ndarray, role: int, position=0, char=0) -> np.ndarray:
    return (entry.astype(np.int64) << _ENTRY_AT) | (np.asarray(char, dtype=np.int64) << _CHAR_AT) \
        | (np.asarray(position, dtype=np.int64) << _POSITION_AT) | role


def _refuse_unnormalised(packed: Packed, plates: list[str]) -> None:
    bad = ~packed.fits | (packed.lengths == 0) | (packed.codes == np.uint64(UNKNOWN)).any(axis=1)
    if bad.any():
        raise ValueError(f"hot-list plate {plates[int(np.flatnonzero(bad)[0])]!r} is not normalised")
