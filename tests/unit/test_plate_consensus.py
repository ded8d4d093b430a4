"""Multi-frame consensus: character-wise voting weighted by per-character confidences."""

from __future__ import annotations

import pytest

from openrtcc.domain.plate_consensus import vote_plate
from openrtcc.domain.plates import PlateCandidate, PlateReading


def reading(text: str, chars: tuple[float, ...] | float = 0.9, region: str | None = None,
            candidates: tuple[tuple[str, float], ...] = ()) -> PlateReading:
    if isinstance(chars, float):
        chars = (chars,) * len(text)
    return PlateReading(text=text, confidence=min(chars), box=(0, 0, 100, 30), region=region,
                        candidates=tuple(PlateCandidate(t, c) for t, c in candidates), char_confidences=chars)


@pytest.mark.parametrize("texts, expected", [
    (["7ABC123"], "7ABC123"),
    (["7ABC123", "7ABC123", "7ABC123"], "7ABC123"),
    # each reading has one wrong character, never at the same position: the vote repairs all of them
    (["7ABC128", "7A8C123", "1ABC123"], "7ABC123"),
    # a reading that dropped a character does not vote on positions, but counts against the others
    (["7ABC123", "7ABC123", "7ABC12"], "7ABC123"),
    # the majority length wins even when the minority reads with the same confidence
    (["ABC123", "ABC123", "XABC123"], "ABC123"),
])
def test_the_vote_finds_the_text(texts, expected):
    assert vote_plate([reading(t) for t in texts]).text == expected


@pytest.mark.parametrize("readings, expected", [
    # a confident reading outvotes two unsure ones at the one disputed position
    ([reading("7ABC123", 0.95), reading("7ABC128", (0.9,) * 6 + (0.2,)), reading("7ABC128", (0.9,) * 6 + (0.2,))],
     "7ABC123"),
    # with equal confidences, two readings outvote one
    ([reading("7ABC123", 0.9), reading("7ABC128", 0.9), reading("7ABC128", 0.9)], "7ABC128"),
])
def test_characters_are_weighted_by_their_own_confidence(readings, expected):
    assert vote_plate(readings).text == expected


@pytest.mark.parametrize("texts, expected_text, expected_conf", [
    # a reading that lost its first character lines up at position 1 and supports positions 1-6
    (["7ABC123", "7ABC123", "ABC123"], "7ABC123", 0.6),
    # one that gained a character (a bolt read as 1) lines up with the window that matches
    (["7ABC123", "7ABC123", "7ABC1231"], "7ABC123", 0.9),
    # another plate altogether lines up nowhere, and counts against every position
    (["7ABC123", "7ABC123", "XY9"], "7ABC123", 0.6),
    # a truck far away: four lengths, one plate; the answer keeps the majority length
    (["29C20339", "89C20333", "29C20339", "DC20339", "19C2033", "C20339"], "29C20339", 0.3),
])
def test_readings_of_other_lengths_vote_where_they_line_up(texts, expected_text, expected_conf):
    consensus = vote_plate([reading(t, 0.9) for t in texts])
    assert consensus.text == expected_text
    assert consensus.confidence == pytest.approx(expected_conf, abs=1e-3)


@pytest.mark.parametrize("texts, char_conf, expected_conf", [
    (["7ABC123"] * 4, 0.9, 0.9),  # agreement keeps the readings' confidence
    (["7ABC123", "7ABC123", "7ABC128", "7ABC128"], 0.9, 0.45),  # a split position halves it
    (["7ABC123", "7ABC123", "7ABC123", "7ABC12"], 0.8, 0.6),  # a short reading is a vote against
])
def test_the_confidence_is_the_weakest_character_of_the_vote(texts, char_conf, expected_conf):
    consensus = vote_plate([reading(t, char_conf) for t in texts])
    assert consensus.confidence == pytest.approx(expected_conf, abs=1e-3)
    assert min(consensus.char_confidences) == pytest.approx(expected_conf, abs=1e-3)


def test_candidates_hold_the_runner_up_and_offered_texts_best_first_and_text_first():
    readings = [reading("7ABC123", 0.9, candidates=(("7ABC123", 0.9), ("7A8C123", 0.3))),
                reading("7ABC123", 0.9), reading("7ABC128", 0.9)]
    c = vote_plate(readings)
    texts = [cand.text for cand in c.candidates]
    assert texts[0] == c.text == "7ABC123"
    assert "7ABC128" in texts and "7A8C123" in texts
    confs = [cand.confidence for cand in c.candidates]
    assert confs == sorted(confs, reverse=True)
    assert c.candidates[0].confidence == c.confidence
    assert len(c.candidates) <= 5 and len(set(texts)) == len(texts)


@pytest.mark.parametrize("regions, expected", [
    ([None, None], None),
    (["US-CA", None, "US-CA"], "US-CA"),
    (["US-CA", "US-NV", "US-NV"], "US-NV"),
])
def test_the_region_is_voted_too(regions, expected):
    assert vote_plate([reading("7ABC123", region=r) for r in regions]).region == expected


def test_readings_without_char_confidences_vote_with_their_confidence():
    plain = [PlateReading(text="AB123", confidence=0.8, box=(0, 0, 10, 5)) for _ in range(2)]
    c = vote_plate(plain)
    assert c.text == "AB123" and c.confidence == pytest.approx(0.8)


@pytest.mark.parametrize("readings", [[], [PlateReading(text="", confidence=0.5, box=(0, 0, 1, 1))]])
def test_nothing_to_vote_on_is_an_error(readings):
    with pytest.raises(ValueError):
        vote_plate(readings)
