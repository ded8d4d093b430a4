"""A bus message that does not decode is refused with a reason that quotes none of its content: the reason is
logged, and an event's fields carry plates and names."""

from __future__ import annotations

import json

import pytest

from openrtcc.adapters.bus.event_codec import UnknownEvent, decode


@pytest.mark.parametrize("message", [
    {"v": 1, "type": "AlertRaised", "event": {"alert": {"plate": "ABC123", "camera_name": "100 Main St"}}},
    {"v": 1, "type": "AlertRaised", "event": "ABC123 at 100 Main St"},
])
def test_an_invalid_event_is_refused_without_quoting_it(message):
    with pytest.raises(UnknownEvent) as refused:
        decode(json.dumps(message).encode())
    assert str(refused.value).startswith("invalid AlertRaised event (")
    assert "ABC123" not in str(refused.value) and "Main St" not in str(refused.value)
    assert refused.value.__cause__ is None and refused.value.__suppress_context__
