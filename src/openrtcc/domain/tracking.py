"""Plate tracking: the plate readings of successive video frames joined into vehicle passes, one per vehicle."""

from __future__ import annotations

import difflib
from collections.abc import Sequence
from dataclasses import dataclass, field

from openrtcc.domain.plate_consensus import Consensus, vote_plate
from openrtcc.domain.plates import PlateReading, lookalike_key

Box = tuple[int, int, int, int]


@dataclass(frozen=True)
class TrackerConfig:
    """Frame counts are in the source's frames, whichever frames the reader actually ran on."""

    max_gap_frames: int = 25  # unseen this long (about 1.5 s at 17 fps): the vehicle has gone
    min_iou: float = 0.05  # boxes overlapping this much (after the motion predicted) are one plate...
    min_text_for_overlap: float = 0.3  # ...unless their texts have almost nothing in common
    same_text: float = 0.75  # texts this similar are one plate wherever the box jumped (missed frames)
    max_jump_widths: float = 3.0  # ...as long as it jumped at most this many plate widths per missed frame
    # A pass needs this much evidence, the sum of the confidences of its readings that agree with its
    # consensus text: one read at 0.7, or a few unsure ones that agree. Two garbled reads of a plate far
    # away are not a pass, nor are many that each say something else (a far plate the reader cannot make out).
    min_evidence: float = 0.7
    repeat_window_frames: int = 170  # the same plate closing again this soon is the same vehicle (10 s)
    # A vehicle still in view this long is reported without waiting for it to leave (parked, queueing: a
    # hot-list hit must not wait hours), once; None: passes complete only when the vehicle has gone.
    report_open_after_frames: int | None = None


@dataclass(frozen=True)
class Sighting:
    frame: int
    reading: PlateReading

    @property
    def quality(self) -> float:
        """How good this sighting is as the pass's evidence: confidence, then a crop a person can read.
        Plates narrower than ~100 px are hard to confirm by eye, so narrower crops count for less."""
        x1, _, x2, _ = self.reading.box
        return self.reading.confidence * min(1.0, max(x2 - x1, 1) / 100.0) ** 0.5


@dataclass(frozen=True)
class VehiclePass:
    """One vehicle's passage: its consensus plate, and the best sighting (frame and box) to show."""

    track_id: int
    first_frame: int
    last_frame: int
    best: Sighting
    consensus: Consensus
    sightings: int


@dataclass
class _Track:
    id: int
    sightings: list[Sighting]
    best: Sighting
    velocity: tuple[float, float] = (0.0, 0.0)  # box centre, pixels per frame
    key: str = field(default="")
    reported: bool = False  # reported while still in view: not again when it leaves

    @property
    def last(self) -> Sighting:
        return self.sightings[-1]

    def add(self, s: Sighting) -> None:
        gap = max(s.frame - self.last.frame, 1)
        (cx0, cy0), (cx1, cy1) = centre(self.last.reading.box), centre(s.reading.box)
        step = ((cx1 - cx0) / gap, (cy1 - cy0) / gap)
        # Smoothed, so one jittery detector box does not fling the prediction.
        self.velocity = tuple(0.5 * v + 0.5 * d for v, d in zip(self.velocity, step))
        self.sightings.append(s)
        if s.quality > self.best.quality:
            self.best = s
        self.key = lookalike_key(s.reading.text)


class PlateTracker:
    """Feed it each frame's readings in frame order (`update`), and `advance` on frames the reader skipped;
    each call returns the passes that completed. `flush` ends the stream and completes the rest."""

    def __init__(self, config: TrackerConfig | None = None):
        self.config = config or TrackerConfig()
        self._open: list[_Track] = []
        self._next_id = 1
        self._recent: dict[str, int] = {}  # look-alike key of an emitted pass -> its last frame

    @property
    def open_tracks(self) -> int:
        return len(self._open)

    def best_frames(self) -> set[int]:
        """The frames holding an open track's best sighting: the caller keeps those frames' images."""
        return {t.best.frame for t in self._open}

    def update(self, frame: int, readings: Sequence[PlateReading]) -> list[VehiclePass]:
        done = self.advance(frame)
        pairs = sorted(((score, ti, ri) for ti, t in enumerate(self._open) for ri, r in enumerate(readings)
                        if (score := self._affinity(t, frame, r)) is not None), reverse=True)
        used_t, used_r = set(), set()
        for _, ti, ri in pairs:
            if ti not in used_t and ri not in used_r:
                used_t.add(ti)
                used_r.add(ri)
                self._open[ti].add(Sighting(frame, readings[ri]))
        for ri, r in enumerate(readings):
            if ri not in used_r and r.text:
                s = Sighting(frame, r)
                self._open.append(_Track(self._next_id, [s], s, key=lookalike_key(r.text)))
                self._next_id += 1
        return done

    def advance(self, frame: int) -> list[VehiclePass]:
        gone = [t for t in self._open if frame - t.last.frame > self.config.max_gap_frames]
        self._open = [t for t in self._open if t not in gone]
        return self._close(gone) + self._report_staying(frame)

    def _report_staying(self, frame: int) -> list[VehiclePass]:
        after = self.config.report_open_after_frames
        if after is None:
            return []
        passes = []
        for t in self._open:
            if t.reported or frame - t.sightings[0].frame < after:
                continue
            if sum(s.reading.confidence for s in t.sightings) < self.config.min_evidence:
                continue  # not enough evidence yet: looked at again on the next frame
            p = self._pass_of(t)
            t.reported = True  # either now, or (a repeat of a recent pass) already
            if p is not None:
                passes.append(p)
        return passes

    def flush(self) -> list[VehiclePass]:
        gone, self._open = self._open, []
        return self._close(gone)

    def _affinity(self, t: _Track, frame: int, r: PlateReading) -> float | None:
        """How well reading `r` continues track `t`, or None when it cannot be the same plate."""
        if not r.text or frame <= t.last.frame:
            return None
        c = self.config
        gap = frame - t.last.frame
        predicted = shift(t.last.reading.box, t.velocity[0] * gap, t.velocity[1] * gap)
        overlap = iou(predicted, r.box)
        similar = text_similarity(t.key, lookalike_key(r.text))
        if overlap >= c.min_iou and similar >= c.min_text_for_overlap:
            return overlap + similar
        width = max(t.last.reading.box[2] - t.last.reading.box[0], 1)
        jump = distance(centre(predicted), centre(r.box)) / width
        if similar >= c.same_text and jump <= c.max_jump_widths * gap:
            return similar
        return None

    def _close(self, tracks: list[_Track]) -> list[VehiclePass]:
        passes = []
        for t in sorted(tracks, key=lambda t: t.sightings[0].frame):
            p = self._pass_of(t)
            if p is not None:
                passes.append(p)
        return passes

    def _evidence(self, t: _Track, text: str) -> float:
        key = lookalike_key(text)
        return sum(s.reading.confidence for s in t.sightings
                   if text_similarity(key, lookalike_key(s.reading.text)) >= self.config.same_text)

    def _pass_of(self, t: _Track) -> VehiclePass | None:
        c = self.config
        consensus = vote_plate([s.reading for s in t.sightings])
        if self._evidence(t, consensus.text) < c.min_evidence:
            return None
        key, first, last = lookalike_key(consensus.text), t.sightings[0].frame, t.last.frame
        seen = self._recent.get(key)
        self._recent = {k: f for k, f in self._recent.items() if last - f <= c.repeat_window_frames}
        self._recent[key] = max(last, seen or last)
        if t.reported:
            return None  # reported while it stayed in view; its leaving only refreshes the repeat window
        if seen is not None and first - seen <= c.repeat_window_frames:
            return None  # the same vehicle again (occluded, or stopped and moved on): already reported
        # The best sighting is chosen as frames arrive (the caller keeps only that frame's image), not
        # from the consensus at the end; it is the clearest view of the plate either way.
        return VehiclePass(t.id, first, last, t.best, consensus, len(t.sightings))


def centre(box: Box) -> tuple[float, float]:
    return (box[0] + box[2]) / 2, (box[1] + box[3]) / 2


def shift(box: Box, dx: float, dy: float) -> Box:
    return (round(box[0] + dx), round(box[1] + dy), round(box[2] + dx), round(box[3] + dy))


def distance(a: tuple[float, float], b: tuple[float, float]) -> float:
    return ((a[0] - b[0]) ** 2 + (a[1] - b[1]) ** 2) ** 0.5


def iou(a: Box, b: Box) -> float:
    ix = max(0, min(a[2], b[2]) - max(a[0], b[0]))
    iy = max(0, min(a[3], b[3]) - max(a[1], b[1]))
    inter = ix * iy
    union = (a[2] - a[0]) * (a[3] - a[1]) + (b[2] - b[0]) * (b[3] - b[1]) - inter
    return inter / union if union > 0 else 0.0


def text_similarity(a: str, b: str) -> float:
    """0..1: twice the matched characters over the total, on look-alike-folded texts (`8` meets `B`)."""
    if not a or not b:
        return 0.0
    return difflib.SequenceMatcher(None, a, b, autojunk=False).ratio()
