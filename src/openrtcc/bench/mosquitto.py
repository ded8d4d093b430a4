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


MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"


@contextmanager
def mosquitto_broker(folder: Path, *, port: int | None = None, username: str | None = None,
                     password: str | None = None):
    """Yield (port, process) of a broker bound to 127.0.0.1, without persistence; with a username, anonymous
    clients are refused. `port`: listen where an earlier broker listened (a restart, as clients see it)."""
    if not Path(MOSQUITTO).exists():
        raise MosquittoUnavailable(f"the Mosquitto MQTT broker is not installed. Install: {INSTALL}")
    port = port or _free_port()
    conf = folder / f"mosquitto-{port}.conf"
    # As root Mosquitto would drop to its own user, which cannot read files in our folder: run it as whoever
    # runs us. Many in-flight messages per client: the hub publishes a batch at once and waits for every PUBACK.
    lines = [f"listener {port} 127.0.0.1", "persistence false", "log_dest stderr", "log_type error",
             f"user {getpass.getuser()}", "max_inflight_messages 0", "max_queued_messages 100000"]
    if username:
        pw = folder / f"mosquitto-{port}.passwd"
        pw.write_text("")
        subprocess.run([MOSQUITTO_PASSWD, "-b", str(pw), username, password or ""], check=True, capture_output=True)
        lines += ["allow_anonymous false", f"password_file {pw}"]
    else:
        lines += ["allow_anonymous true"]
    conf.write_text("\n".join(lines) + "\n")
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
