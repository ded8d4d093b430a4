"""Plates packed into integers (5 bits per folded character) and a hash table that numpy probes for a
whole batch of keys at once."""

from __future__ import annotations

import string
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np

from openrtcc.domain.matching import FOLD_TABLE, FOLDED_ALPHABET
from openrtcc.domain.plates import MAX_PLATE_LENGTH

BITS = 5
GROUP = (1 << BITS) - 1
# Code 0 pads a key past its end, so a packed key also says its length; a character a normalised plate
# cannot hold (lower case, punctuation) gets UNKNOWN, which no entry's character ever has.
UNKNOWN = len(FOLDED_ALPHABET) + 1
RAW_UNKNOWN = 63  # the unfolded (6-bit) code of such a character, to tell exact from look-alike
PLATE_CHARS = string.digits + string.ascii_uppercase
assert UNKNOWN <= GROUP and len(PLATE_CHARS) < RAW_UNKNOWN

FOLD_CODES = np.full(128, UNKNOWN, dtype=np.uint64)
RAW_CODES = np.full(128, RAW_UNKNOWN, dtype=np.uint64)
for _k, _ch in enumerate(PLATE_CHARS):
    FOLD_CODES[ord(_ch)] = FOLDED_ALPHABET.index(_ch.translate(FOLD_TABLE)) + 1
    RAW_CODES[ord(_ch)] = _k + 1

FOLD_CODE_OF = {ch: int(FOLD_CODES[ord(ch)]) for ch in PLATE_CHARS}  # the same codes, for one plate in Python

_SHIFT5 = np.arange(16, dtype=np.uint64) * np.uint64(BITS)
_SHIFT6 = np.arange(16, dtype=np.uint64) * np.uint64(6)
_LOW = (np.uint64(1) << _SHIFT5) - np.uint64(1)  # the groups below position j
_C1, _C2 = np.uint64(0xFF51AFD7ED558CCD), np.uint64(0xC4CEB9FE1A85EC53)
_S33 = np.uint64(33)
WINDOW = 4  # slots a lookup reads per round: 64 bytes, mostly one cache line
_STEPS = np.arange(WINDOW)


@dataclass(frozen=True, slots=True)
class Packed:
    """A batch of plates as folded keys (5 bits a character, first character lowest), unfolded keys (6 bits
    a character, first MAX_PLATE_LENGTH characters), lengths and the per-position folded codes."""

    keys: np.ndarray  # uint64
    raw: np.ndarray  # uint64
    lengths: np.ndarray  # int64, the text's own length (may exceed `width`: then the keys are not usable)
    codes: np.ndarray  # (n, width) uint64, 0 past the end

    @property
    def fits(self) -> np.ndarray:
        return self.lengths <= self.codes.shape[1]


def pack(plates: Sequence[str], width: int) -> Packed:
    """Pack plates of up to `width` (<= 12) characters; longer ones are cut and flagged by `fits`."""
    n = len(plates)
    lengths = np.fromiter(map(len, plates), dtype=np.int64, count=n)
    chars = np.array(plates, dtype=f"<U{width}").view(np.uint32).reshape(n, width)
    inside = np.arange(width) < lengths[:, None]
    small = np.minimum(chars, 127)
    codes = np.where(inside, FOLD_CODES[small], np.uint64(0))
    keys = np.bitwise_or.reduce(codes << _SHIFT5[:width], axis=1) if width else np.zeros(n, np.uint64)
    raw_width = min(width, MAX_PLATE_LENGTH)
    raw_codes = np.where(inside[:, :raw_width], RAW_CODES[small[:, :raw_width]], np.uint64(0))
    raw = np.bitwise_or.reduce(raw_codes << _SHIFT6[:raw_width], axis=1)
    return Packed(keys, raw, lengths, codes)


def deletions(packed: Packed) -> tuple[np.ndarray, np.ndarray]:
    """Each key less the character at position j, (n, width), and where j is inside the plate."""
    width = packed.codes.shape[1]
    keys = packed.keys[:, None]
    deleted = (keys & _LOW[:width]) | ((keys >> _SHIFT5[1:width + 1]) << _SHIFT5[:width])
    return deleted, np.arange(width) < packed.lengths[:, None]


def mix(keys: np.ndarray) -> np.ndarray:
    """A bijection of uint64 (murmur3's finaliser): distinct keys keep distinct hashes, so the table stores
    hashes only, and the top bits spread well enough to index the directory."""
    h = keys ^ (keys >> _S33)
    h = h * _C1
    h ^= h >> _S33
    h = h * _C2
    h ^= h >> _S33
    return h


_M64 = (1 << 64) - 1


def pack_one(plate: str) -> tuple[int, list[int]]:
    """One plate's folded key and codes, as pack() gives them, in plain Python (no per-call numpy cost)."""
    codes = [FOLD_CODE_OF.get(ch, UNKNOWN) for ch in plate]
    key = 0
    for j, code in enumerate(codes):
        key |= code << (BITS * j)
    return key, codes


def delete_one(key: int, j: int) -> int:
    return (key & ((1 << (BITS * j)) - 1)) | ((key >> (BITS * (j + 1))) << (BITS * j))


def mix_one(key: int) -> int:
    """mix() of one key, in Python integers."""
    h = key ^ (key >> 33)
    h = (h * 0xFF51AFD7ED558CCD) & _M64
    h ^= h >> 33
    h = (h * 0xC4CEB9FE1A85EC53) & _M64
    return h ^ (h >> 33)


class KeyTable:
    """Packed keys (never 0) -> the items (non-negative ints) filed under them.

    An open-addressing table of (hash, value) slots with the hashes in ascending order: each key sits at
    the slot its hash's top bits name or, when that is taken, at the next free one after the keys of
    smaller hash (ordered linear probing). A lookup reads WINDOW slots from its home on, and goes on only
    while all of them hold smaller hashes: one window for most keys, found or not. The value is the key's
    item when it has one, else ~m for the m-th run of the overflow lists. Each round is one numpy gather
    for a whole batch of probes, so the CPU overlaps their cache misses instead of waiting for each in
    turn, as a Python loop over a dict must."""

    def __init__(self, keys: np.ndarray, items: np.ndarray):
        h = mix(keys.astype(np.uint64))
        order = np.argsort(h)
        h, items = h[order], items[order].astype(np.int64)
        first = np.flatnonzero(np.concatenate(([True], h[1:] != h[:-1]))) if len(h) else np.zeros(0, np.int64)
        hashes = h[first]
        count = np.diff(np.append(first, len(h)))
        value = items[first]
        several = np.flatnonzero(count > 1)
        value[several] = ~np.arange(len(several))
        self.more_starts = np.zeros(len(several) + 1, dtype=np.int64)
        np.cumsum(count[several], out=self.more_starts[1:])
        runs = np.repeat(first[several], count[several]) + (np.arange(self.more_starts[-1]) - np.repeat(
            self.more_starts[:-1], count[several]))
        self.more_items = items[runs]
        self.bits = max(1, (len(hashes) * 4 // 3).bit_length())  # at most 3/4 full
        self.shift = np.uint64(64 - self.bits)
        n = len(hashes)
        home = (hashes >> self.shift).astype(np.int64)
        slot = np.maximum.accumulate(home - np.arange(n)) + np.arange(n) if n else home
        # Zero rows past the last key: a lookup window may run over the end.
        self.slots = np.zeros((max(1 << self.bits, int(slot[-1]) + 1 if n else 0) + WINDOW, 2), dtype=np.uint64)
        self.slots[slot, 0] = hashes
        self.slots[slot, 1] = value.view(np.uint64)
        self.keys = n
        self._flat = memoryview(self.slots.reshape(-1))  # Python ints, for get()

    def __len__(self) -> int:
        return self.keys

    @property
    def nbytes(self) -> int:
        return self.slots.nbytes + self.more_starts.nbytes + self.more_items.nbytes

    def get(self, key: int) -> list[int]:
        """The items filed under one key, read slot by slot in Python: for a single probe, cheaper than
        the few dozen numpy calls of find()."""
        h = mix_one(key)
        flat, at = self._flat, 2 * (h >> int(self.shift))
        while True:
            stored = flat[at]
            if stored == h:
                value = flat[at + 1]
                if value < 1 << 63:
                    return [value]
                m = ~(value - (1 << 64))
                return self.more_items[self.more_starts[m]:self.more_starts[m + 1]].tolist()
            if stored == 0 or stored > h:
                return []
            at += 2

    def find(self, keys: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        """(which probe, item) for every item filed under any of the probed (non-zero) keys."""
        h = mix(keys)
        slot = (h >> self.shift).astype(np.intp)
        value = np.full(len(h), -1, dtype=np.int64)
        found = np.zeros(len(h), dtype=bool)
        todo, at, wanted = np.arange(len(h)), slot, h
        while len(todo):
            rows = self.slots.take(np.add.outer(at, _STEPS).ravel(), axis=0).reshape(-1, WINDOW, 2)
            probe, place = np.nonzero(rows[:, :, 0] == wanted[:, None])  # a key is in one slot at most
            value[todo[probe]] = rows[probe, place, 1].view(np.int64)
            found[todo[probe]] = True
            # On past a window only while all its slots hold smaller hashes.
            last = rows[:, -1, 0]
            on = (last < wanted) & (last != 0)
            todo, at, wanted = todo[on], at[on] + WINDOW, wanted[on]
        single = np.flatnonzero(found & (value >= 0))
        several = np.flatnonzero(found & (value < 0))
        if not len(several):
            return single, value[single]
        m = ~value[several]
        start = self.more_starts[m]
        count = self.more_starts[m + 1] - start
        offset = np.arange(count.sum()) - np.repeat(np.cumsum(count) - count, count)
        which = np.concatenate((single, np.repeat(several, count)))
        return which, np.concatenate((value[single], self.more_items[np.repeat(start, count) + offset]))
