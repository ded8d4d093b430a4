"""Images and video in: type sniffing, image decoding, PyAV files and RTSP streams, motion gating."""
