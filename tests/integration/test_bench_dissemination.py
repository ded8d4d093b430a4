"""`rtcc bench dissemination` in miniature: a real hub, Mosquitto, the receivers process (aiosmtpd, the webhook,
ntfy and Twilio receivers, the MQTT subscriber, WebSocket screens) and the load process for two seconds; every
citywide police link gets every plate hit, each paired with its receipt, and the section is written beside the
results file's other sections."""

from __future__ import annotations

from pathlib import Path

import pytest

from openrtcc.bench.dissemination import run_bench
from openrtcc.bench.dissemination_report import SECTION_TITLE, section
from openrtcc.bench.dissemination_world import CITYWIDE
from openrtcc.bench.mosquitto import INSTALL, MOSQUITTO
from openrtcc.bench.report import replace_section
from openrtcc.domain.dissemination import Audience
from tests.services import require_service


@pytest.mark.slow
def test_a_small_run_pairs_every_delivery_with_its_receipt_and_writes_its_section(tmp_path):
    require_service(Path(MOSQUITTO).exists(), "the Mosquitto MQTT broker", INSTALL)
    f = run_bench(rate=10.0, seconds=2.0, subscribers=60, incident_share=0.2)

    assert f.skipped is None and not f.load_errors, f.load_errors
    assert f.alerts == 16 and f.incidents == 4  # 8 hits/s and 2 incidents/s for 2 s
    assert f.notices == {"alert": 16, "incident": 4}  # the citywide police links match every one
    assert f.sockets == (10, 10) and f.bad_signatures == 0
    citywide = {c.value: n for a, c, n in CITYWIDE if a is Audience.POLICE_UNIT}
    for channel, count in citywide.items():  # police units' citywide links: every plate hit, sent and received
        c = f.channels[channel]
        assert c.statuses["sent"] >= f.alerts * count, (channel, c.statuses)
        assert len(c.received_ms) == len(c.handed_ms) == c.statuses["sent"], channel
        assert all(0 < ms < 30_000 for ms in c.received_ms), channel
    assert f.status_total("dead") == 0 and f.status_total("queued") == 0
    assert f.fan_out("alert") >= sum(citywide.values())
    assert set(f.cpu_s) == {"hub", "mosquitto", "receivers", "load (clients)"}

    results = tmp_path / "benchmarks.md"
    results.write_text("# Benchmarks\n\n## Registry (rtcc bench registry)\n\nkept as it was\n")
    replace_section(results, SECTION_TITLE, section(f))
    text = results.read_text()
    assert "kept as it was" in text and text.count(SECTION_TITLE) == 1
    assert "Commit -> handed to the channel" in text and "websocket: handed / received" in text
