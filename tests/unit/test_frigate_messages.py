"""Frigate's messages parsed leniently (both plate formats, extra fields ignored, malformed ones named without
their content) and folded into one sighting per vehicle event with its best plate, settled once."""

from __future__ import annotations

import json
from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.frigate_messages import (
    EventTracker,
    FrigateLinkConfig,
    MalformedMessage,
    Sighting,
    parse_message,
    sightings_of,
)

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def after(**kw) -> dict:
    return {"id": "1.5-ab", "camera": "drive", "label": "car", "start_time": 1_790_000_000.5, "score": 0.7,
            "zones": [], "attributes": {}, **kw}


@pytest.mark.parametrize("doc, expected", [
    ({"type": "update", "after": after(recognized_license_plate="ABC123", recognized_license_plate_score=0.91)},
     ("ABC123", 0.91)),
    ({"type": "end", "after": after(recognized_license_plate=["ABC123", 0.88])}, ("ABC123", 0.88)),
    ({"type": "new", "after": after(recognized_license_plate="ABC123")}, ("ABC123", 0.7)),  # the object's score
    ({"type": "new", "after": after()}, None),
    ({"type": "new", "after": after(recognized_license_plate="   ")}, None),
])
def test_both_plate_formats_of_events_are_understood(doc, expected):
    message = parse_message("events", json.dumps(doc).encode())
    sighting = sightings_of(message)
    assert (None if sighting is None else (sighting.plate, sighting.score)) == expected


@pytest.mark.parametrize("topic, payload, reason", [
    ("events", b"\xff\xfe", "not JSON"),
    ("events", b"[]", "not a JSON object"),
    ("events", json.dumps({"type": "gone", "after": after()}).encode(), "invalid fields: type"),
    ("events", json.dumps({"type": "new", "after": after(recognized_license_plate=["ABC", 0.5, 1])}).encode(),
     "after.recognized_license_plate"),
    ("tracked_object_update", json.dumps({"type": "lpr", "id": "x y", "camera": "drive", "plate": "SECRET1",
                                          "score": 0.9, "timestamp": 5}).encode(), "invalid fields: id"),
    ("events", b"{" + b" " * 300_000 + b"}", "message too large"),
])
def test_malformed_messages_say_why_without_their_content(topic, payload, reason):
    with pytest.raises(MalformedMessage) as exc:
        parse_message(topic, payload)
    assert reason in str(exc.value) and "SECRET1" not in str(exc.value)


def test_other_update_types_are_not_about_plates():
    assert parse_message("tracked_object_update", b'{"type": "description", "id": "1.2-x"}') is None


def s(event_id: str, plate: str, score: float) -> Sighting:
    return Sighting(event_id, "drive", plate, score, T0)


def test_an_event_settles_once_with_its_best_plate_at_its_end_or_when_quiet():
    tracker = EventTracker(settle=timedelta(seconds=5), max_hold=timedelta(seconds=60))
    assert tracker.observe(s("e1", "A8C123", 0.7), T0)
    assert tracker.observe(s("e1", "ABC123", 0.9), T0 + timedelta(seconds=1))
    assert tracker.observe(s("e1", "ABC12", 0.8), T0 + timedelta(seconds=2))  # worse: kept the best
    tracker.observe(s("e2", "XYZ789", 0.8), T0 + timedelta(seconds=2))
    assert tracker.settled(T0 + timedelta(seconds=3)) == []
    tracker.end("e1")
    assert [(x.event_id, x.plate, x.score) for x in tracker.settled(T0 + timedelta(seconds=3))] == [
        ("e1", "ABC123", 0.9)]
    assert not tracker.observe(s("e1", "ABC999", 0.99), T0 + timedelta(seconds=4))  # late: ignored
    assert [x.event_id for x in tracker.settled(T0 + timedelta(seconds=7))] == ["e2"]  # quiet for 5 s
    assert tracker.settled(T0 + timedelta(seconds=30)) == [] and tracker.pending_count() == 0


def test_a_parked_car_is_read_after_max_hold_and_a_flood_is_bounded():
    tracker = EventTracker(settle=timedelta(seconds=5), max_hold=timedelta(seconds=60), max_pending=2)
    for i in range(70):  # updates every second for 70 s: never quiet
        tracker.observe(s("parked", "PARK1", 0.5 + i / 1000), T0 + timedelta(seconds=i))
        if i == 59:
            assert tracker.settled(T0 + timedelta(seconds=i)) == []
    assert [x.score for x in tracker.settled(T0 + timedelta(seconds=70))] == [0.569]
    for i in range(4):
        tracker.observe(s(f"f{i}", "F", 0.5), T0 + timedelta(seconds=71, milliseconds=i))
    assert [x.event_id for x in tracker.settled(T0 + timedelta(seconds=71))] == ["f0", "f1"]


def test_the_link_config_is_strict():
    ok = FrigateLinkConfig(broker_url="mqtts://nvr.example.org:8883", cameras={"drive_way-2": "c1"})
    assert ok.topic_prefix == "frigate" and ok.settle_s == 5
    for bad in ({"broker_url": "mqtt://u:p@nvr.example.org", "cameras": {"a": "c"}},
                {"broker_url": "tcp://nvr", "cameras": {"a": "c"}},
                {"broker_url": "mqtt://nvr", "cameras": {"a/b": "c"}},
                {"broker_url": "mqtt://nvr", "cameras": {"a": "c"}, "topic_prefix": "#"},
                {"broker_url": "mqtt://nvr", "cameras": {"a": "c"}, "unknown": 1}):
        with pytest.raises(ValueError):
            FrigateLinkConfig.model_validate(bad)
