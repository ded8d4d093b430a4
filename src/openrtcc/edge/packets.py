"""How the parts of the box share one camera connection: the capture fans encoded packets out.

The recorder remuxes them; the plate reader and the live streamer decode them in their own threads. A
slow consumer loses its oldest packets (and is told, so it waits for the next keyframe); it never slows
the capture or the recorder.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from fractions import Fraction
from typing import Protocol


@dataclass(frozen=True, slots=True)
class StreamInfo:
    """What a decoder or muxer needs to know about the video stream."""

    codec_name: str  # "h264", "hevc"
    extradata: bytes | None
    width: int
    height: int
    time_base: Fraction
    average_rate: Fraction | None


@dataclass(frozen=True, slots=True)
class EncodedPacket:
    """One compressed video packet. `packet` is the av.Packet itself (read-only for consumers);
    `captured_at` is the box's wall clock when it arrived (the recorder names segments by it)."""

    packet: object
    pts: int | None
    dts: int | None
    keyframe: bool
    captured_at: datetime
    gap_before: bool = False  # packets were dropped (or the stream reconnected) just before this one


class PacketSubscription(Protocol):
    info: StreamInfo

    def get(self, timeout: float | None = None) -> EncodedPacket | None:
        """The next packet; None on timeout or once the subscription is closed."""
        ...

    def close(self) -> None: ...


class PacketSource(Protocol):
    """A camera's stream as the rest of the box sees it."""

    camera_id: str

    def subscribe(self, max_queue: int = 240) -> PacketSubscription:
        """Start receiving packets from the next keyframe on."""
        ...
