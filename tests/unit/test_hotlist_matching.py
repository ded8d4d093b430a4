"""The hot-list matcher: each kind of match, state awareness, validity windows, and agreement with the
brute-force reference on random reads with planted near-misses; every test of an index runs on both
implementations, the pure definition and the packed (numpy) one."""

from __future__ import annotations

import random
import string
from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.adapters.matching.packed_index import PackedHotListIndex
from openrtcc.bench.hotlist_reference import brute_force_match
from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.matching import HotListMatcher, MatchKind, fold, one_edit_apart
from openrtcc.domain.plates import lookalike_key

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
E = HotListEntry

LISTS = {
    "ncic": [
        E("ABC1234", "CA", "stolen_vehicle", priority=2),
        E("MTB4417", "MT", "stolen_vehicle"),  # a Montana motorcycle
        E("XYZ9", None, "stolen_plate"),  # no state on the record: any state
        E("OLD1234", "CA", "stolen_vehicle", expires_at=NOW - timedelta(seconds=1)),
        E("NEW1234", "CA", "stolen_vehicle", effective_at=NOW + timedelta(hours=1)),
        E("DAY1234", "CA", "stolen_vehicle", effective_at=NOW - timedelta(hours=1), expires_at=NOW + timedelta(hours=1)),
        E("AB1", "TX", "stolen_vehicle"),  # too short for one-edit matching
    ],
    "custom": [
        E("7?BC12*", "CA", "custom", reason="witness saw part", owner="det. Ruiz", expires_at=NOW + timedelta(days=3)),
        E("*4417", None, "custom", reason="tail of a plate", owner="det. Ruiz", expires_at=NOW + timedelta(days=3)),
    ],
    "amber": [E("ABC1234", None, "amber_alert", priority=3)],
}

CASES = [
    # plate, read state, expected [(list, entry plate, kind)], why
    ("ABC1234", "CA", [("ncic", "ABC1234", "exact"), ("amber", "ABC1234", "exact")], "same plate, same state"),
    ("ABC1234", None, [("ncic", "ABC1234", "exact"), ("amber", "ABC1234", "exact")], "read without state"),
    ("ABC1234", "NV", [("amber", "ABC1234", "exact")], "wrong state: only the stateless entry"),
    ("MTB4417", "CO", [("custom", "*4417", "partial")], "Montana plate on a Colorado car is no exact hit"),
    ("MTB4417", "MT", [("ncic", "MTB4417", "exact"), ("custom", "*4417", "partial")], "right state"),
    ("A8C1234", "CA", [("ncic", "ABC1234", "lookalike"), ("amber", "ABC1234", "lookalike")], "B read as 8"),
    ("A8CI234", "CA", [("ncic", "ABC1234", "lookalike"), ("amber", "ABC1234", "lookalike")], "two look-alikes"),
    ("ABC124", "CA", [("ncic", "ABC1234", "one_edit"), ("amber", "ABC1234", "one_edit")], "a dropped character"),
    ("ABC12345", "CA", [("ncic", "ABC1234", "one_edit"), ("amber", "ABC1234", "one_edit")], "an extra character"),
    ("ABC1284", "CA", [("ncic", "ABC1234", "one_edit"), ("amber", "ABC1234", "one_edit")], "one substitution"),
    ("A8C1284", "CA", [("ncic", "ABC1234", "one_edit"), ("amber", "ABC1234", "one_edit")], "look-alike + edit"),
    ("BAC1234", "CA", [], "a swap is two edits"),
    ("ABC1299", "CA", [], "two substitutions"),
    ("XYZ9", "WY", [("ncic", "XYZ9", "exact")], "stateless entry, any state"),
    ("XYZ", "WY", [("ncic", "XYZ9", "one_edit")], "4-character entry, one deletion"),
    ("AB2", "TX", [], "3-character entry: no one-edit (AB2 folds to A82, not AB1's key)"),
    ("AB1", "TX", [("ncic", "AB1", "exact")], "short entry still matches exactly"),
    ("A81", "TX", [("ncic", "AB1", "lookalike")], "short entry, look-alike"),
    ("ABX", "TX", [], "short entry: no one-edit"),
    ("OLD1234", "CA", [], "expired a second ago"),
    ("NEW1234", "CA", [], "not yet effective"),
    ("DAY1234", "CA", [("ncic", "DAY1234", "exact")], "inside its window"),
    ("7XBC12", "CA", [("custom", "7?BC12*", "partial")], "wildcard: ? one, * none"),
    ("7XBC12999", "CA", [("custom", "7?BC12*", "partial")], "wildcard: * a run"),
    ("7BC12", "CA", [], "? needs exactly one character"),
    ("7XBC12", "NY", [], "partial entry of another state"),
    ("7X8C12", "CA", [("custom", "7?BC12*", "partial")], "partial is look-alike-aware"),
    ("ZZZ0000", None, [], "nothing like it"),
]


@pytest.fixture(params=[HotListMatcher.build, PackedHotListIndex.build], ids=["pure", "packed"], scope="module")
def build(request):
    return request.param


@pytest.fixture(scope="module")
def matcher(build):
    return build(LISTS)


@pytest.mark.parametrize("plate, state, expected, why", CASES, ids=[c[3] for c in CASES])
def test_match_kinds(matcher, plate, state, expected, why):
    got = [(h.list_id, h.entry.plate, h.kind.value) for h in matcher.match(plate, state, NOW)]
    assert got == expected, why
    assert [(lid, pos, kind.value) for lid, pos, kind in brute_force_match(LISTS, plate, state, NOW)] == [
        (lid, [e.plate for e in LISTS[lid]].index(p), k) for lid, p, k in expected], why


def test_best_kind_first_and_one_hit_per_list(build):
    lists = {"a": [E("ABC1284", None, "x"), E("A8C1234", None, "x"), E("ABC1234", None, "x", priority=5)],
             "b": [E("ABC123?", None, "x"), E("A8C1234", None, "x", priority=1)]}
    hits = build(lists).match("ABC1234", None)
    assert [(h.list_id, h.entry.plate, h.kind) for h in hits] == [
        ("a", "ABC1234", MatchKind.EXACT), ("b", "A8C1234", MatchKind.LOOKALIKE)]


def test_priority_breaks_ties_within_a_list(build):
    lists = {"a": [E("ABC1234", None, "x", priority=9), E("ABC1234", "CA", "x", priority=1)]}
    assert build(lists).match("ABC1234", "CA")[0].entry.priority == 1


def test_without_now_validity_is_not_checked(build):
    lists = {"a": [E("OLD1234", None, "x", expires_at=NOW - timedelta(days=1))]}
    m = build(lists)
    assert m.match("OLD1234", None) and not m.match("OLD1234", None, NOW)


def test_fold_is_the_shared_lookalike_key():
    assert all(fold(ch) == lookalike_key(ch) for ch in string.ascii_uppercase + string.digits + "*?")


@pytest.mark.parametrize("a, b, apart", [("ABC", "ABD", True), ("ABC", "AB", True), ("ABC", "XABC", True),
                                         ("ABC", "ABC", False), ("ABC", "BAC", False), ("ABC", "A", False),
                                         ("", "A", True), ("ABCD", "ABDC", False)])
def test_one_edit_apart(a, b, apart):
    assert one_edit_apart(a, b) is apart


def test_entries_by_list_gives_back_what_was_built(build):
    assert build(LISTS).entries_by_list() == LISTS


def _random_world(rng: random.Random, n: int):
    alphabet = string.ascii_uppercase + string.digits
    states = ["CA", "NV", "MT", None]
    entries = []
    for i in range(n):
        plate = "".join(rng.choice(alphabet) for _ in range(rng.randint(3, 8)))
        if rng.random() < 0.15:
            chars = list(plate)
            chars[rng.randrange(len(chars))] = "?"
            plate = "".join(chars) + ("*" if rng.random() < 0.5 else "")
            if sum(c not in "*?" for c in plate) < 3:
                continue
        window = {}
        if rng.random() < 0.1:
            window = {"expires_at": NOW + timedelta(hours=rng.choice([-1, 1]))}
        entries.append(E(plate, rng.choice(states), "x", priority=rng.choice([None, 1, 2]), line=i, **window))
    return {"one": entries[: n // 2], "two": entries[n // 2:]}


def _near(rng: random.Random, plate: str) -> str:
    plate = plate.replace("*", "").replace("?", "A")
    alphabet = string.ascii_uppercase + string.digits + "0O8B1I5S"
    op, i = rng.choice(["same", "look", "sub", "ins", "del"]), rng.randrange(len(plate))
    if op == "look":
        return plate.translate(str.maketrans("0O8B1I5S", "O0B8I1S5"))
    if op == "sub":
        return plate[:i] + rng.choice(alphabet) + plate[i + 1:]
    if op == "ins":
        return (plate[:i] + rng.choice(alphabet) + plate[i:])[:10]
    if op == "del" and len(plate) > 1:
        return plate[:i] + plate[i + 1:]
    return plate


def test_index_agrees_with_brute_force_on_random_near_misses(build):
    rng = random.Random(20261120)
    lists = _random_world(rng, 600)
    matcher = build(lists)
    every = [e for entries in lists.values() for e in entries]
    position = {id(e): (lid, pos) for lid, entries in lists.items() for pos, e in enumerate(entries)}
    reads = [(_near(rng, rng.choice(every).plate) if rng.random() < 0.8 else "Q" * rng.randint(1, 8),
              rng.choice(["CA", "NV", "MT", "WY", None])) for _ in range(1500)]
    matched = 0
    for (plate, state), hits in zip(reads, matcher.match_many(reads, NOW), strict=True):
        got = [(*position[id(h.entry)], h.kind) for h in hits]
        assert got == brute_force_match(lists, plate, state, NOW), (plate, state)
        matched += bool(got)
    assert matched > 300  # the planted near-misses really exercise the index


def test_benchmark_references_agree_with_the_plain_definitions_and_the_index():
    from openrtcc.bench.hotlist import NOW as BENCH_NOW
    from openrtcc.bench.hotlist import make_lists, make_reads, measure
    from openrtcc.bench.hotlist_reference import NeighbourhoodReference, VectorBruteForce

    rng = random.Random(3)
    lists = make_lists(rng, 1500)
    reads = make_reads(rng, lists, 300)
    plain = [brute_force_match(lists, p, s, BENCH_NOW) for p, s in reads]
    vector = VectorBruteForce(lists, BENCH_NOW)
    assert [vector.match(p, s) for p, s in reads] == plain
    neighbourhood = NeighbourhoodReference(lists, BENCH_NOW)
    assert [neighbourhood.match(p, s) for p, s in reads] == plain
    figures = measure(3000, 600, seed=5, workers=1, check_reads=200)
    assert figures.misses == 0 and figures.exhaustive_misses == 0 and figures.pure_misses == 0
    assert figures.checked == 200 and figures.cpu_share <= 1.02
    assert figures.reads_with_hits > 200
    assert set(figures.by_kind) == {"exact", "lookalike", "one_edit", "partial"}
