"""Candidate plates from the OCR's per-slot probabilities: k-best decoding, format priors, look-alikes.

Pure: probabilities arrive as plain lists of floats (one list per character slot, one float per
alphabet symbol), so the rules here are table-tested without a model."""

from __future__ import annotations

import functools
import heapq
import math
from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from openrtcc.domain.plate_formats import CLASSES, fits, formats_for
from openrtcc.domain.plates import lookalikes

SlotProbs = Sequence[Sequence[float]]
_FLOOR = 1e-12  # a probability the OCR rounds to zero still must not make a log infinite
OFF_FORMAT = 0.2  # prior of a text that fits none of the expected formats, relative to one that fits
LOOKALIKE_SHARE = 0.5  # how much of a look-alike's probability a character of the needed class takes


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


@functools.cache
def _index(alphabet: str) -> dict[str, int]:
    return {ch: i for i, ch in enumerate(alphabet)}


def text_prob(slots: SlotProbs, text: str, alphabet: str, pad: str) -> float:
    """How likely the OCR finds `text`: its characters in the first slots, padding in the rest."""
    if len(text) > len(slots):
        return 0.0
    index = _index(alphabet)
    if any(ch not in index for ch in text):
        return 0.0
    seq = [*text, *(pad * (len(slots) - len(text)))]
    return math.prod(float(probs[index[ch]]) for probs, ch in zip(slots, seq, strict=True))


def constrained_best(slots: SlotProbs, template: str, alphabet: str, pad: str) -> str:
    """The likeliest text that fits `template` (`D` digit, `L` letter, `A` either), one slot per character.

    Within a class, a character also takes part of the probability of its look-alikes outside the
    class: where the OCR says `B` but the template needs a digit, `8` is the reading that explains it."""
    return fill_template(class_best(slots[:len(template)], alphabet), template)


def class_best(slots: SlotProbs, alphabet: str) -> list[dict[str, str]]:
    """Per slot, the best character of each class (`D`, `L`, `A`): computed once per view, it fills
    every template of every region in play (a `US` prior alone has dozens)."""
    index = _index(alphabet)
    best = []
    for probs in slots:
        def support(ch: str, allowed: str, probs=probs) -> float:
            borrowed = sum(float(probs[index[o]]) for o in lookalikes(ch) if o not in allowed and o in index)
            return float(probs[index[ch]]) + LOOKALIKE_SHARE * borrowed

        # Class A allows every character, so nothing is borrowed: its best is the plain likeliest.
        best.append({cls: max(allowed, key=lambda ch, allowed=allowed: support(ch, allowed))
                     if cls != "A" else max(allowed, key=lambda ch: float(probs[index[ch]]))
                     for cls, allowed in CLASSES.items()})
    return best


def fill_template(best: list[dict[str, str]], template: str) -> str:
    """The template spelt with each slot's best character of the class asked; '' when it is too long."""
    if len(template) > len(best):
        return ""
    return "".join(slot[cls] for slot, cls in zip(best, template, strict=False))


def rescore(
    variants: Sequence[SlotProbs],
    alphabet: str,
    pad: str,
    region_weights: Mapping[str, float],
    off_format: float = OFF_FORMAT,
    k: int = 10,
) -> list[Scored]:
    """Candidates read from several views of one plate, ranked by OCR probability times format prior.

    The OCR probability of a text is its mean over the views (crop variants), so a text that only one
    view sees counts for little. The prior mixes the formats of the regions in play, weighted by how
    likely each region is (a hint, or the OCR's own region head): a text that fits a region's formats
    keeps its probability, one that fits none is multiplied by `off_format` (not excluded: vanity and
    special plates exist). Regions without known formats are neutral."""
    if not variants:
        return []
    texts: dict[str, None] = {}
    templates = dict.fromkeys(t for region in region_weights for t in formats_for(region))
    for slots in variants:
        for s in k_best(slots, alphabet, pad, k=k):
            texts[s.text] = None
        best = class_best(slots, alphabet) if templates else []
        for template in templates:
            if t := fill_template(best, template):
                texts[t] = None
    scored = []
    for text in texts:
        probs = [text_prob(slots, text, alphabet, pad) for slots in variants]
        ocr = sum(probs) / len(probs)
        prior = format_prior(text, region_weights, off_format)
        scored.append(Scored(text, ocr, _char_confidences(variants, text, alphabet),
                             math.log(max(ocr * prior, _FLOOR))))
    return sorted(scored, key=lambda s: s.score, reverse=True)


def format_prior(text: str, region_weights: Mapping[str, float], off_format: float = OFF_FORMAT) -> float:
    total = sum(region_weights.values())
    if total <= 0:
        return 1.0
    prior = 0.0
    for region, weight in region_weights.items():
        templates = formats_for(region)
        prior += weight * (1.0 if not templates or fits(text, templates) else off_format)
    return prior / total


def _char_confidences(variants: Sequence[SlotProbs], text: str, alphabet: str) -> tuple[float, ...]:
    index = _index(alphabet)
    return tuple(sum(float(v[i][index[ch]]) for v in variants) / len(variants) for i, ch in enumerate(text))


REGION_MIN_PROB = 0.05  # regions the OCR head gives less than this take no part in the prior
REGION_SURE = 0.5  # the head's region is reported only when it is at least this likely


def region_weights(hint: str | None, head: Mapping[str, float], top: int = 3) -> dict[str, float]:
    """Which regions' formats apply: the hint alone when there is one (the operator knows where the
    camera is), else the OCR region head's likeliest few."""
    if hint and hint.strip():
        return {hint.strip().upper(): 1.0}
    ranked = sorted(((p, r) for r, p in head.items() if p >= REGION_MIN_PROB), reverse=True)[:top]
    return {r: p for p, r in ranked}


def reading_region(text: str, hint: str | None, head: Mapping[str, float]) -> str | None:
    """The ISO 3166 region to report for a read: the hint when the text fits its formats (or none are
    known); for a US state hint the text does not fit, just 'US' (cars cross state lines); else the
    OCR head's region when it is sure; else None."""
    if hint and hint.strip():
        hint = hint.strip().upper()
        templates = formats_for(hint)
        if not templates or fits(text, templates):
            return hint
        if hint == "US" or hint.startswith("US-"):
            return "US"
    if head:
        p, region = max((p, r) for r, p in head.items())
        if p >= REGION_SURE:
            return region
    return None
