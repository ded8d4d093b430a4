"""Multi-frame consensus: one plate text, confidence and candidate list from the readings of one vehicle pass."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass

from openrtcc.domain.plates import PlateCandidate, PlateReading

MAX_CANDIDATES = 5


@dataclass(frozen=True)
class Consensus:
    """The pass's answer. `char_confidences` belong to `text`; `support` counts the readings of its length."""

    text: str
    confidence: float
    char_confidences: tuple[float, ...]
    candidates: tuple[PlateCandidate, ...]
    region: str | None
    support: int


def vote_plate(readings: Sequence[PlateReading], max_candidates: int = MAX_CANDIDATES) -> Consensus:
    """Character-wise vote over the readings, each character weighted by its own confidence.

    A position's confidence is the mean, over ALL readings, of the probability mass each gave the winning
    character there: a reading of another length, or another character, counts as a vote against. The
    text's confidence is its weakest character's, as for a single reading (one unsure character makes
    a wrong plate). Other texts the readings offered, and the consensus with its runner-up character at
    one position, become the candidates; the best-scored of all is the answer."""
    voters = [r for r in readings if r.text]
    if not voters:
        raise ValueError("no readings to vote on")
    n = len(voters)
    length = _winning_length(voters)
    same = [r for r in voters if len(r.text) == length]
    columns = [_column_scores(same, i, n) for i in range(length)]
    winners = [max(col.items(), key=lambda kv: (kv[1], kv[0])) for col in columns]
    text = "".join(ch for ch, _ in winners)
    chars = tuple(round(score, 4) for _, score in winners)
    scored = _offered_texts(voters, n)
    scored[text] = max(scored.get(text, 0.0), min(chars))
    for alt, score in _runner_up_texts(text, chars, columns):
        scored[alt] = max(scored.get(alt, 0.0), score)
    ranked = sorted(scored.items(), key=lambda kv: (-kv[1], kv[0] != text, kv[0]))[:max_candidates]
    best_text, best_score = ranked[0]
    if best_text != text:
        chars = _chars_of(best_text, voters, n)
    return Consensus(
        text=best_text, confidence=round(best_score, 4), char_confidences=chars,
        candidates=tuple(PlateCandidate(t, round(s, 4)) for t, s in ranked),
        region=_winning_region(voters), support=len(same))


def _weight(r: PlateReading) -> float:
    # A floor keeps a reading with a zero confidence from vanishing from the length vote entirely.
    return max(r.confidence, 0.01)


def _char_confidences(r: PlateReading) -> tuple[float, ...]:
    if len(r.char_confidences) == len(r.text):
        return r.char_confidences
    return (r.confidence,) * len(r.text)


def _winning_length(voters: Sequence[PlateReading]) -> int:
    weight: dict[int, float] = defaultdict(float)
    for r in voters:
        weight[len(r.text)] += _weight(r)
    # Ties go to the longer text: a dropped character is a commoner OCR failure than an invented one.
    return max(weight.items(), key=lambda kv: (round(kv[1], 9), kv[0]))[0]


def _column_scores(same: Sequence[PlateReading], i: int, n: int) -> dict[str, float]:
    column: dict[str, float] = defaultdict(float)
    for r in same:
        column[r.text[i]] += _char_confidences(r)[i] / n
    return dict(column)


def _offered_texts(voters: Sequence[PlateReading], n: int) -> dict[str, float]:
    """Each text any reading offered (its own or a candidate), scored by its mean confidence over all."""
    scored: dict[str, float] = defaultdict(float)
    for r in voters:
        offered = {c.text: c.confidence for c in r.candidates if c.text}
        offered[r.text] = max(offered.get(r.text, 0.0), r.confidence)
        for t, conf in offered.items():
            scored[t] += conf / n
    return dict(scored)


def _runner_up_texts(text: str, chars: tuple[float, ...], columns: list[dict[str, float]]):
    for i, column in enumerate(columns):
        others = sorted(((s, ch) for ch, s in column.items() if ch != text[i]), reverse=True)
        if others:
            score, ch = others[0]
            rest = [c for j, c in enumerate(chars) if j != i]
            yield text[:i] + ch + text[i + 1:], min([score, *rest])


def _chars_of(text: str, voters: Sequence[PlateReading], n: int) -> tuple[float, ...]:
    """Per-character support for a text that won on the candidate scores rather than the vote."""
    same = [r for r in voters if len(r.text) == len(text)]
    return tuple(round(_column_scores(same, i, n).get(ch, 0.0), 4) for i, ch in enumerate(text))


def _winning_region(voters: Sequence[PlateReading]) -> str | None:
    weight: dict[str, float] = defaultdict(float)
    for r in voters:
        if r.region:
            weight[r.region] += _weight(r)
    if not weight:
        return None
    return max(weight.items(), key=lambda kv: (kv[1], kv[0]))[0]
