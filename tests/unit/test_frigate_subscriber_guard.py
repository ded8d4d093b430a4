"""A Frigate broker on a loopback, private or link-local address is refused unless the deployment allows it,
and the refusal reaches the link's status without the broker's credentials."""

from __future__ import annotations

import threading

from openrtcc.adapters.mqtt.frigate_subscriber import FrigateSubscriber


class RecordingSink:
    """The link's side of domain.ports.MessageSink, recording what it is told."""

    topics = ("frigate/tracked_object_update", "frigate/events")

    def __init__(self) -> None:
        self.states: list[tuple[bool, str | None]] = []
        self.told = threading.Event()

    def handle(self, topic: str, payload: bytes) -> None:
        raise AssertionError("no message can arrive from a refused broker")

    def tick(self) -> None:
        pass

    def link_state(self, connected: bool, error: str | None) -> None:
        self.states.append((connected, error))
        self.told.set()


def test_a_broker_inside_the_hubs_network_is_refused():
    for url in ("mqtt://127.0.0.1:1883", "mqtt://10.1.2.3:1883", "mqtt://169.254.169.254:1883"):
        sink = RecordingSink()
        link = FrigateSubscriber(url, "frigate-user", "Hunter-Two-22", sink, allow_private=False)
        link.start()
        try:
            assert sink.told.wait(5)
        finally:
            link.close()
        connected, error = sink.states[0]
        assert not connected and "refused" in error and "Hunter" not in error and "frigate-user" not in error
        assert not link.is_connected()
