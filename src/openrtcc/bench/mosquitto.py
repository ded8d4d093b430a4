"""Debian's Mosquitto broker on a free loopback port, started and stopped by a benchmark."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
INSTALL = "apt-get install -y mosquitto"


class MosquittoUnavailable(RuntimeError):
    """The broker is not installed; the message says how to install it."""


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@contextmanager
def mosquitto_broker(folder: Path):
    """Yield (port, process) of an anonymous broker bound to 127.0.0.1, without persistence."""
    if not Path(MOSQUITTO).exists():
        raise MosquittoUnavailable(f"the Mosquitto MQTT broker is not installed. Install: {INSTALL}")
    port = _free_port()
    conf = folder / "mosquitto.conf"
    # As root Mosquitto would drop to its own user; run it as whoever runs the benchmark instead. Many
    # in-flight messages per client: the hub publishes a batch at once and waits for every PUBACK.
    conf.write_text(f"listener {port} 127.0.0.1\npersistence false\nallow_anonymous true\nlog_dest stderr\n"
                    f"log_type error\nuser {getpass.getuser()}\nmax_inflight_messages 0\nmax_queued_messages 100000\n")
    proc = subprocess.Popen([MOSQUITTO, "-c", str(conf)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
    try:
        deadline = time.monotonic() + 10
        while True:
            try:
                socket.create_connection(("127.0.0.1", port), timeout=0.5).close()
                break
            except OSError:
                if proc.poll() is not None or time.monotonic() > deadline:
                    raise RuntimeError(f"mosquitto did not start: {proc.stderr.read().decode(errors='replace')}")
                time.sleep(0.05)
        yield port, proc
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait()
