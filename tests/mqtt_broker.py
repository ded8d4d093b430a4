"""A real Mosquitto broker (Debian's) on a loopback port, for the MQTT channel and Frigate ingest tests: the
benchmarks' broker, skipped (or, in CI, failed) with the install step when it is not installed."""

from __future__ import annotations

from contextlib import contextmanager
from pathlib import Path

from openrtcc.bench.mosquitto import INSTALL, MOSQUITTO, mosquitto_broker
from tests.services import require_service


@contextmanager
def mosquitto(tmp_path: Path, *, username: str | None = None, password: str | None = None, port: int | None = None):
    """Yield the port of a fresh broker bound to 127.0.0.1; with a username, anonymous clients are refused.
    `port`: listen where an earlier broker listened (a broker restart, as clients see it)."""
    require_service(Path(MOSQUITTO).exists(), "the Mosquitto MQTT broker", INSTALL)
    with mosquitto_broker(tmp_path, port=port, username=username, password=password) as (bound, _):
        yield bound
