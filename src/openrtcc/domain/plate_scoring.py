"""Candidate plates from the OCR's per-slot probabilities: k-best decoding, format priors, look-alikes.

Pure: probabilities arrive as plain lists of floats (one list per character slot, one float per
alphabet symbol), so the rules here are table-tested without a model."""

from __future__ import annotations

import heapq
import math
from collections.abc import Sequence
from dataclasses import dataclass

SlotProbs = Sequence[Sequence[float]]
_FLOOR = 1e-9  # a probability the OCR rounds to zero still must not make a log infinite


@dataclass(frozen=True, slots=True)
class Scored:
    """A candidate text with its OCR probability, per-character confidences and final score (log)."""

    text: str
    ocr_prob: float
    char_confidences: tuple[float, ...]
    score: float


def decode_argmax(slots: SlotProbs, alphabet: str, pad: str) -> Scored:
    """The stock decoder: the likeliest symbol of every slot, padding dropped."""
    chars, confs = [], []
    for probs in slots:
        i = max(range(len(probs)), key=probs.__getitem__)
        if alphabet[i] != pad:
            chars.append(alphabet[i])
            confs.append(float(probs[i]))
    prob = math.prod(max(p) for p in slots) if slots else 0.0
    return Scored("".join(chars), prob, tuple(confs), math.log(max(prob, _FLOOR)))


def k_best(slots: SlotProbs, alphabet: str, pad: str, k: int = 20, per_slot: int = 4) -> list[Scored]:
    """The k likeliest slot sequences as texts (padding dropped), likeliest first.

    Beam search over the `per_slot` likeliest symbols of each slot; sequences that spell the same text
    (padding in different slots) pool their probability."""
    beam: list[tuple[float, str, tuple[float, ...]]] = [(0.0, "", ())]
    for probs in slots:
        top = heapq.nlargest(per_slot, range(len(probs)), key=probs.__getitem__)
        grown = []
        for logp, text, confs in beam:
            for i in top:
                p = max(float(probs[i]), _FLOOR)
                ch = alphabet[i]
                grown.append((logp + math.log(p), text if ch == pad else text + ch,
                              confs if ch == pad else (*confs, p)))
        beam = heapq.nlargest(k * 2, grown, key=lambda b: b[0])
    pooled: dict[str, tuple[float, tuple[float, ...]]] = {}
    for logp, text, confs in beam:
        if not text:
            continue
        prob = math.exp(logp)
        if text in pooled:
            pooled[text] = (pooled[text][0] + prob, pooled[text][1])
        else:
            pooled[text] = (prob, confs)
    ranked = sorted(pooled.items(), key=lambda kv: kv[1][0], reverse=True)[:k]
    return [Scored(t, p, c, math.log(max(p, _FLOOR))) for t, (p, c) in ranked]
