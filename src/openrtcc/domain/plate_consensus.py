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

    The length most of the confidence agrees on wins. Readings of that length vote position by position;
    a shorter or longer reading (a character lost at the crop's edge, a bolt read as `1`) votes where it
    lines up best with them, if it lines up at all. A position's confidence is the mean, over ALL
    readings, of the probability mass each gave the winning character there, so a reading that disagrees
    or cannot be lined up counts against it. The text's confidence is its weakest character's, as for a
    single reading (one unsure character makes a wrong plate). Candidates: the answer first, then the
    other texts the readings offered and the answer with a runner-up character at one position, best
    first; a text of the winning length that scores above the vote's own becomes the answer."""
    voters = [r for r in readings if r.text]
    if not voters:
        raise ValueError("no readings to vote on")
    n = len(voters)
    length = _winning_length(voters)
    same = [_Vote(r.text, _char_confidences(r), 0) for r in voters if len(r.text) == length]
    draft, _ = _winners(_columns(same, length, n))
    others = [v for r in voters if len(r.text) != length and (v := _line_up(r, draft)) is not None]
    columns = _columns(same + others, length, n)
    text, chars = _winners(columns)
    scored = _offered_texts(voters, n)
    scored[text] = max(scored.get(text, 0.0), min(chars))
    for alt, score in _runner_up_texts(text, chars, columns):
        scored[alt] = max(scored.get(alt, 0.0), score)
    answer = max((t for t in scored if len(t) == length), key=lambda t: (scored[t], t == text))
    if answer != text:
        chars = tuple(round(columns[i].get(ch, 0.0), 4) for i, ch in enumerate(answer))
    rest = sorted((t for t in scored if t != answer), key=lambda t: (-scored[t], t))
    ranked = [answer, *rest][:max_candidates]
    return Consensus(
        text=answer, confidence=round(scored[answer], 4), char_confidences=chars,
        candidates=tuple(PlateCandidate(t, round(scored[t], 4)) for t in ranked),
        region=_winning_region(voters), support=len(same) + len(others))


@dataclass(frozen=True)
class _Vote:
    """A reading's characters (or a window of them) voting from position `start` of the answer on."""

    text: str
    confidences: tuple[float, ...]
    start: int


def _line_up(r: PlateReading, draft: str) -> _Vote | None:
    """Where a reading of another length agrees best with the draft answer; None if it hardly does."""
    text, confs, length = r.text, _char_confidences(r), len(draft)
    if len(text) < length:
        options = [(_agreement(text, draft[k:k + len(text)]), _Vote(text, confs, k))
                   for k in range(length - len(text) + 1)]
    else:
        options = [(_agreement(text[k:k + length], draft), _Vote(text[k:k + length], confs[k:k + length], 0))
                   for k in range(len(text) - length + 1)]
    agreed, vote = max(options, key=lambda o: o[0])
    # Most of its characters must match, or it is another plate (or noise) and votes nowhere.
    return vote if agreed >= max(2, 0.6 * len(vote.text)) else None


def _agreement(a: str, b: str) -> int:
    return sum(x == y for x, y in zip(a, b))


def _columns(votes: Sequence[_Vote], length: int, n: int) -> list[dict[str, float]]:
    columns: list[dict[str, float]] = [defaultdict(float) for _ in range(length)]
    for v in votes:
        for i, (ch, conf) in enumerate(zip(v.text, v.confidences)):
            columns[v.start + i][ch] += conf / n
    return [dict(c) for c in columns]


def _winners(columns: list[dict[str, float]]) -> tuple[str, tuple[float, ...]]:
    best = [max(col.items(), key=lambda kv: (kv[1], kv[0])) for col in columns]
    return "".join(ch for ch, _ in best), tuple(round(score, 4) for _, score in best)


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


def _winning_region(voters: Sequence[PlateReading]) -> str | None:
    weight: dict[str, float] = defaultdict(float)
    for r in voters:
        if r.region:
            weight[r.region] += _weight(r)
    if not weight:
        return None
    return max(weight.items(), key=lambda kv: (kv[1], kv[0]))[0]
