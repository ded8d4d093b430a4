"""The muxer's model of a camera stream: PyAV gives an output stream codec parameters without opening an
encoder only by copying them from another stream, so one is read from the camera's first keyframe."""

from __future__ import annotations

import io

import av

from openrtcc.edge.packets import EncodedPacket, StreamInfo

_START_CODE = (b"\x00\x00\x00\x01", b"\x00\x00\x01")
_RAW_FORMATS = {"h264": "h264", "hevc": "hevc"}


class StreamTemplate:
    """An input stream parsed from (parameter sets +) one keyframe; kept open while segments copy it."""

    def __init__(self, info: StreamInfo, keyframe: EncodedPacket):
        fmt = _RAW_FORMATS.get(info.codec_name)
        if fmt is None:
            raise ValueError(f"cannot record {info.codec_name!r} video (H.264 and H.265 only)")
        data = bytes(keyframe.packet)
        if info.extradata and info.extradata.startswith(_START_CODE):
            data = info.extradata + data  # parameter sets sent only in the SDP
        # The parser reads the parameter sets without decoding a frame: enough for a remux.
        self._container = av.open(io.BytesIO(data), format=fmt, options={"probesize": "32", "analyzeduration": "0"})
        self.info = info
        self.stream = self._container.streams.video[0]

    def close(self) -> None:
        self._container.close()
