"""A real RTSP server for tests (GStreamer's rtsp-server), run by Debian's /usr/bin/python3, which has the
`gi` bindings that a uv virtualenv lacks. Test support only, not product code.

Mounts, on 127.0.0.1 and a port the kernel picks (printed as `READY <port>` on stdout):
  /cars    the given H.264 mp4 file, from its start for each client, in real time; the stream ends with it
  /static  a still test pattern encoded to H.264 (an empty scene: nothing ever moves), never ending
  /noisy   the SMPTE pattern, whose corner patch of random noise changes in every frame (as leaves or rain
           do), otherwise still, never ending
Exit status 3 with a line on stderr when GStreamer or one of its plugins is missing.
"""

from __future__ import annotations

import argparse
import signal
import sys

NEEDED_ELEMENTS = ("qtdemux", "h264parse", "rtph264pay", "videotestsrc", "x264enc")


def main() -> int:
    parser = argparse.ArgumentParser()
    parser.add_argument("--file", required=True, help="an mp4 holding H.264 video")
    args = parser.parse_args()
    try:
        import gi

        gi.require_version("Gst", "1.0")
        gi.require_version("GstRtspServer", "1.0")
        from gi.repository import GLib, Gst, GstRtspServer
    except (ImportError, ValueError) as e:
        print(f"missing GStreamer RTSP server bindings: {e}", file=sys.stderr)
        return 3
    Gst.init(None)
    missing = [name for name in NEEDED_ELEMENTS if Gst.ElementFactory.find(name) is None]
    if missing:
        print(f"missing GStreamer elements: {', '.join(missing)}", file=sys.stderr)
        return 3
    server = GstRtspServer.RTSPServer()
    server.set_address("127.0.0.1")
    server.set_service("0")
    mounts = server.get_mount_points()
    location = args.file.replace("\\", "\\\\").replace('"', '\\"')
    mounts.add_factory("/cars", factory(
        GstRtspServer, f'( filesrc location="{location}" ! qtdemux ! h264parse ! '
                       "rtph264pay name=pay0 pt=96 config-interval=1 )"))
    for mount, pattern in (("/static", "smpte75"), ("/noisy", "smpte")):
        mounts.add_factory(mount, factory(
            GstRtspServer, f"( videotestsrc pattern={pattern} is-live=true ! "
                           "video/x-raw,width=640,height=360,framerate=15/1 ! "
                           "x264enc tune=zerolatency speed-preset=ultrafast key-int-max=15 ! "
                           "video/x-h264,profile=baseline ! rtph264pay name=pay0 pt=96 config-interval=1 )"))
    if server.attach(None) == 0:
        print("could not bind the RTSP server", file=sys.stderr)
        return 1
    print(f"READY {server.get_bound_port()}", flush=True)
    loop = GLib.MainLoop()
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGINT, lambda: loop.quit() or False)
    loop.run()
    return 0


def factory(GstRtspServer, launch: str):
    f = GstRtspServer.RTSPMediaFactory()
    f.set_launch(launch)
    f.set_shared(False)  # each client gets its own pipeline from the start: tests do not race each other
    return f


if __name__ == "__main__":
    sys.exit(main())
