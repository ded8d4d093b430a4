"""Candidate decoding and re-scoring on hand-made per-slot probabilities (no model)."""

import math

import pytest

from openrtcc.domain.plate_scoring import (
    constrained_best,
    decode_argmax,
    format_prior,
    k_best,
    reading_region,
    region_weights,
    rescore,
    text_prob,
)

ALPHABET = "0123456789ABCDEFGHIJKLMNOPQRSTUVWXYZ_"
PAD = "_"


def slots(*specs: dict[str, float], total: int = 10) -> list[list[float]]:
    """Per-slot probabilities: each spec maps characters to probability; missing slots are padding."""
    rows = []
    for spec in [*specs, *({PAD: 1.0} for _ in range(total - len(specs)))]:
        rest = (1.0 - sum(spec.values())) / (len(ALPHABET) - len(spec))
        rows.append([spec.get(ch, rest) for ch in ALPHABET])
    return rows


def sure(text: str) -> list[list[float]]:
    return slots(*({ch: 0.99} for ch in text))


def test_argmax_reads_the_likeliest_symbol_of_each_slot_and_drops_padding():
    s = decode_argmax(sure("7ABC123"), ALPHABET, PAD)
    assert s.text == "7ABC123"
    assert len(s.char_confidences) == 7 and all(c == pytest.approx(0.99) for c in s.char_confidences)


def test_k_best_ranks_alternatives_of_the_unsure_slot():
    probs = slots({"7": 0.99}, {"B": 0.6, "8": 0.4}, {"C": 0.99})
    ranked = [s.text for s in k_best(probs, ALPHABET, PAD, k=3)]
    assert ranked[:2] == ["7BC", "78C"]
    assert len(set(ranked)) == len(ranked)


def test_text_prob_counts_the_padding_after_the_text():
    probs = sure("AB")
    assert text_prob(probs, "AB", ALPHABET, PAD) == pytest.approx(0.99 ** 2)
    assert text_prob(probs, "A", ALPHABET, PAD) < 1e-3  # slot 2 is sure it holds a B
    assert text_prob(probs, "ABCDEFGHIJK", ALPHABET, PAD) == 0.0
    assert text_prob(probs, "A-", ALPHABET, PAD) == 0.0


@pytest.mark.parametrize(("spec", "template", "expected"), [
    # The OCR leans to B in a slot California wants a digit: its look-alike 8 wins over other digits.
    (({"B": 0.7, "8": 0.1, "3": 0.15}, {"A": 0.99}), "DL", "8A"),
    # Without a look-alike in the class, the likeliest member of the class.
    (({"K": 0.8, "4": 0.15}, {"A": 0.99}), "DL", "4A"),
    # O in a digit slot is the digit zero.
    (({"O": 0.9, "6": 0.05}, {"1": 0.99}), "DD", "01"),
    (({"A": 0.9}, {"1": 0.99}), "AA", "A1"),
])
def test_constrained_best_fills_each_slot_from_its_class(spec, template, expected):
    assert constrained_best(slots(*spec), template, ALPHABET, PAD) == expected


def test_a_california_hint_turns_an_unsure_first_letter_into_the_digit_it_looks_like():
    # 8ABC123 with the OCR unsure between B and 8 in the first slot, leaning B.
    probs = slots({"B": 0.55, "8": 0.4}, *({ch: 0.99} for ch in "ABC123"))
    assert rescore([probs], ALPHABET, PAD, {})[0].text == "BABC123"
    assert rescore([probs], ALPHABET, PAD, {"US-CA": 1.0})[0].text == "8ABC123"


def test_a_confident_read_that_fits_no_format_is_kept():
    probs = sure("CEMENT")  # a vanity plate: no California format fits it
    best = rescore([probs], ALPHABET, PAD, {"US-CA": 1.0})[0]
    assert best.text == "CEMENT"


def test_views_are_pooled_so_one_view_missing_a_character_is_outvoted():
    full, clipped = sure("ABC1234"), sure("BC1234")
    best = rescore([full, full, clipped], ALPHABET, PAD, {})[0]
    assert best.text == "ABC1234"
    assert best.ocr_prob == pytest.approx(2 / 3 * 0.99 ** 7, rel=1e-3)
    assert len(best.char_confidences) == 7


def test_rescore_of_nothing_is_nothing():
    assert rescore([], ALPHABET, PAD, {"BR": 1.0}) == []


@pytest.mark.parametrize(("text", "weights", "expected"), [
    ("ABC1234", {"BR": 1.0}, 1.0),
    ("AB12345", {"BR": 1.0}, 0.2),
    ("AB12345", {"BR": 0.5, "XX": 0.5}, 0.6),  # a region without formats is neutral
    ("ANYTHING", {}, 1.0),
    ("ABC1234", {"US": 1.0}, 1.0),  # no state known: any state's series will do
    ("1ABC234", {"US": 1.0}, 1.0),
    ("AB1C2D3", {"US": 1.0}, 0.2),  # no state's
])
def test_format_prior(text, weights, expected):
    assert format_prior(text, weights, off_format=0.2) == pytest.approx(expected)


@pytest.mark.parametrize(("hint", "head", "expected"), [
    ("us-ca", {"US": 0.9}, {"US-CA": 1.0}),
    (None, {"BR": 0.7, "AR": 0.2, "PT": 0.06, "DE": 0.04}, {"BR": 0.7, "AR": 0.2, "PT": 0.06}),
    ("  ", {"US": 0.01}, {}),
])
def test_region_weights(hint, head, expected):
    assert region_weights(hint, head) == expected


@pytest.mark.parametrize(("text", "hint", "head", "expected"), [
    ("7ABC123", "US-CA", {"US": 0.9}, "US-CA"),  # fits the hinted state's format
    ("ABC1234", "US-CA", {"US": 0.9}, "US"),  # an out-of-state car: the country, not the state
    ("ABC1234", "US-FL", {}, "US-FL"),  # no formats known for the hint: the hint stands
    ("AB1C2D3", "US", {"BR": 0.9}, "US"),  # the country hint stands for a text no state's series fits
    ("ABC1D23", None, {"BR": 0.97}, "BR"),
    ("ABC1D23", None, {"BR": 0.4, "AR": 0.35}, None),  # the head is not sure
    ("ABC1D23", None, {}, None),
])
def test_reading_region(text, hint, head, expected):
    assert reading_region(text, hint, head) == expected


def test_scores_are_logs_of_probability_times_prior():
    s = rescore([sure("ABC1234")], ALPHABET, PAD, {"BR": 1.0})[0]
    assert s.score == pytest.approx(math.log(s.ocr_prob))
