"""The packed (numpy) hot-list index gives exactly HotListMatcher's hits, and the plain definitions', on
random worlds built to reach every corner: each kind, wrong states, validity windows, `*` and `?`
patterns of every shape, plates of 1 to 10 characters, the same plate on several lists and priorities."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.adapters.matching.packed_index import PackedHotListIndex
from openrtcc.bench.hotlist_reference import brute_force_match
from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.matching import HotListMatcher

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
ALPHABET = string.ascii_uppercase + string.digits
LOOKS = str.maketrans("0ODQ1IL2Z5S8B6GUV", "O0QD I1Z2S5B8G6VU".replace(" ", "L"))
STATES = ["CA", "NV", "MT", None]


def _plate(rng: random.Random) -> str:
    length = rng.choice([1, 2, 3, 4, 5, 6, 7, 7, 7, 8, 9, 10, 10])
    # A small alphabet so that plates crowd each other: shared deletions, runs, look-alike twins.
    return "".join(rng.choice("AB8O0QDS5IL1Z27") for _ in range(length))


def _pattern(rng: random.Random) -> str:
    plate = _plate(rng).ljust(5, "X")
    form = rng.choice(["head", "tail", "middle", "one?", "two?", "three?", "?*", "runs"])
    if form == "head":
        return plate[:rng.randint(3, len(plate) - 1)] + "*"
    if form == "tail":
        return "*" + plate[-rng.randint(3, len(plate) - 1):]
    if form == "middle":
        return "*" + plate[1:4] + "*"
    if form == "runs":
        return plate[0] + "*" + plate[1:3] + "*" + plate[3]
    chars = list(plate)
    for i in rng.sample(range(len(chars)), k={"one?": 1, "two?": 2, "three?": 3, "?*": 1}[form]):
        chars[i] = "?"
    pattern = "".join(chars) + ("*" if form == "?*" else "")
    return pattern if sum(c not in "*?" for c in pattern) >= 3 else plate


def _entry(rng: random.Random, plate: str, line: int) -> HotListEntry:
    window = rng.choice([{}, {}, {}, {"expires_at": NOW}, {"expires_at": NOW + timedelta(seconds=1)},
                         {"effective_at": NOW}, {"effective_at": NOW + timedelta(seconds=1)},
                         {"effective_at": NOW - timedelta(days=1), "expires_at": NOW + timedelta(days=1)}])
    return HotListEntry(plate, rng.choice(STATES), "x", priority=rng.choice([None, 1, 2, 5]), line=line, **window)


def world(seed: int, n: int) -> dict[str, list[HotListEntry]]:
    rng = random.Random(seed)
    lists: dict[str, list[HotListEntry]] = {"ncic": [], "vendor": [], "custom": []}
    plates = []
    for i in range(n):
        plate = _pattern(rng) if rng.random() < 0.12 else _plate(rng)
        if plates and rng.random() < 0.15:
            plate = rng.choice(plates)  # the same plate again, on this list or another
        plates.append(plate)
        lists[rng.choice(list(lists))].append(_entry(rng, plate, i))
    return lists


def _near(rng: random.Random, plate: str) -> str:
    plate = "".join(rng.choice(ALPHABET) if c == "?" else c for c in plate).replace("*", "X" * rng.randint(0, 2))
    i, ch = rng.randrange(len(plate)), rng.choice("AB8O0QDS5IL1Z27K")
    edit = rng.choice(["same", "look", "sub", "ins", "del", "two", "long"])
    if edit == "look":
        return plate.translate(LOOKS)
    if edit == "sub":
        return plate[:i] + ch + plate[i + 1:]
    if edit == "ins":
        return plate[:i] + ch + plate[i:]  # up to 11 characters: one deletion from a 10-character entry
    if edit == "del" and len(plate) > 1:
        return plate[:i] + plate[i + 1:]
    if edit == "two":
        return (plate[:i] + ch + plate[i + 1:])[::-1]
    if edit == "long":
        return plate + "K" * rng.randint(1, 3)
    return plate


def reads(seed: int, lists: dict[str, list[HotListEntry]], n: int) -> list[tuple[str, str | None]]:
    rng = random.Random(seed)
    every = [e for entries in lists.values() for e in entries]
    return [(_near(rng, rng.choice(every).plate) if rng.random() < 0.85 else _plate(rng),
             rng.choice(STATES + ["WY"])) for _ in range(n)]


def _as_rows(lists, hits_per_read):
    position = {id(e): (lid, pos) for lid, entries in lists.items() for pos, e in enumerate(entries)}
    return [[(*position[id(h.entry)], h.kind) for h in hits] for hits in hits_per_read]


@pytest.mark.parametrize("seed", [1, 2, 3, 4])
def test_same_hits_as_the_pure_matcher_and_the_definitions(seed):
    lists = world(seed, 700)
    sample = reads(seed, lists, 2500)
    packed, pure = PackedHotListIndex.build(lists), HotListMatcher.build(lists)
    for now in (NOW, None):
        got = _as_rows(lists, packed.match_many(sample, now))  # one batch: the arrays
        assert got == _as_rows(lists, [pure.match(p, s, now) for p, s in sample]), now
        assert _as_rows(lists, [packed.match(p, s, now) for p, s in sample]) == got, now  # one read a call
    expected = [brute_force_match(lists, p, s, NOW) for p, s in sample[:600]]
    assert _as_rows(lists, packed.match_many(sample[:600], NOW)) == expected
    kinds = {k for rows in got for _l, _p, k in rows}
    assert len(kinds) == 4 and sum(map(bool, got)) > len(sample) // 3  # the world reaches every kind


def test_batches_of_any_size_and_single_calls_agree():
    lists = world(7, 400)
    sample = reads(7, lists, 300)
    packed = PackedHotListIndex.build(lists)
    whole = packed.match_many(sample, NOW)
    for size in (37, 5, 1):  # arrays, then a read at a time (batches under FEW)
        assert [hits for k in range(0, 300, size) for hits in packed.match_many(sample[k:k + size], NOW)] == whole
    assert packed.match_many([], NOW) == []


@pytest.mark.parametrize("plate", ["abc1234", "ABC-123", "AB C12", "ÅBC123", "ABC12345678", "ABC1234567890XY", ""])
def test_reads_that_were_never_normalised_get_what_the_pure_matcher_gives(plate):
    lists = {"a": [HotListEntry(p, None, "x") for p in
                   ("ABC1234", "ABC123", "ABC1234567", "ABC*", "*4567890XY", "AB?12", "A?C?23", "*C12*")]}
    packed, expected = PackedHotListIndex.build(lists), HotListMatcher.build(lists).match(plate, None)
    assert packed.match(plate, None) == expected
    assert packed.match_many([(plate, None)] * 20, None) == [expected] * 20


@pytest.mark.parametrize("plate", ["abc123", "ABC-123", "ABCDEFGHIJK", "", "AB?c*"])
def test_build_refuses_plates_that_are_not_normalised(plate):
    with pytest.raises(ValueError, match="not normalised"):
        PackedHotListIndex.build({"a": [HotListEntry(plate, None, "x")]})


def test_an_empty_index_matches_nothing():
    empty = PackedHotListIndex.build({})
    assert len(empty) == 0 and empty.match_many([("ABC1234", "CA")], NOW) == [[]]
    assert PackedHotListIndex.build({"a": []}).entries_by_list() == {"a": []}
    only_patterns = PackedHotListIndex.build({"a": [HotListEntry(p, None, "x") for p in ("AB?12", "*C123")]})
    assert [h.entry.plate for h in only_patterns.match("ABX12", None)] == ["AB?12"]
    assert [h.entry.plate for h in only_patterns.match("ZZC123", None)] == ["*C123"]
