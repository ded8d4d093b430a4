"""A real Mosquitto broker (Debian's) on a loopback port, for the MQTT channel, Frigate ingest and benchmarks."""

from __future__ import annotations

import getpass
import shutil
import socket
import subprocess
import time
from contextlib import contextmanager
from pathlib import Path

from tests.edge_hub import free_port
from tests.services import require_service

MOSQUITTO = shutil.which("mosquitto") or "/usr/sbin/mosquitto"
MOSQUITTO_PASSWD = shutil.which("mosquitto_passwd") or "/usr/bin/mosquitto_passwd"
INSTALL = "apt-get install -y mosquitto"


@contextmanager
def mosquitto(tmp_path: Path, *, username: str | None = None, password: str | None = None, port: int | None = None):
    """Yield the port of a fresh broker bound to 127.0.0.1; with a username, anonymous clients are refused.
    `port`: listen where an earlier broker listened (a broker restart, as clients see it)."""
    require_service(Path(MOSQUITTO).exists(), "the Mosquitto MQTT broker", INSTALL)
    port = port or free_port()
    conf = tmp_path / f"mosquitto-{port}.conf"
    # Run as whoever runs the tests: as root, Mosquitto would otherwise drop to its own user, which cannot
    # read the password file in the test's folder.
    lines = [f"listener {port} 127.0.0.1", "persistence false", "log_dest stderr", "log_type error",
             f"user {getpass.getuser()}"]
    if username:
        pw = tmp_path / f"mosquitto-{port}.passwd"
        pw.write_text("")
        subprocess.run([MOSQUITTO_PASSWD, "-b", str(pw), username, password or ""],
                       check=True, capture_output=True)
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
        yield port
    finally:
        proc.terminate()
        try:
            proc.wait(5)
        except subprocess.TimeoutExpired:
            proc.kill()
