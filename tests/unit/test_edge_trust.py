"""The box's credentials file, access log and health report, and the hub's enrolment-code rules."""

from __future__ import annotations

import io
import os
import sqlite3
import stat
from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.edge_protocol import CameraHealth
from openrtcc.domain.errors import InvalidInput
from openrtcc.edge.access_log import EdgeAccessLog, access_log_path, print_log
from openrtcc.edge.alarms import Alarms
from openrtcc.edge.config import EdgeConfig
from openrtcc.edge.credentials import Credentials, credentials_path, load_credentials, save_credentials
from openrtcc.edge.health import HealthReporter
from openrtcc.edge.hub_http import link_url, tls_context
from openrtcc.services.edge_enrolment import AttemptLimiter, TooManyAttempts, normalise_code

T0 = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _config(tmp_path, url="http://127.0.0.1:8000") -> EdgeConfig:
    return EdgeConfig.model_validate({"edge": {"data_dir": str(tmp_path), "hub_url": url}})


def test_credentials_are_private_and_checked(tmp_path):
    config = _config(tmp_path)
    creds = Credentials("e1", "rtcc_edge_secret", "http://127.0.0.1:8000")
    os.umask(0o022)
    path = save_credentials(config, creds)
    assert stat.S_IMODE(path.stat().st_mode) == 0o600 and "secret" not in repr(creds)
    assert load_credentials(config) == creds
    path.chmod(0o644)
    with pytest.raises(InvalidInput, match="readable by other users"):
        load_credentials(config)
    path.chmod(0o600)
    with pytest.raises(InvalidInput, match="enrol the box with this hub"):
        load_credentials(_config(tmp_path, "http://localhost:9000"))
    path.write_text("{half")
    with pytest.raises(InvalidInput, match="unreadable"):
        load_credentials(config)
    credentials_path(config).unlink()
    with pytest.raises(InvalidInput, match="rtcc edge enrol") as missing:
        load_credentials(config)
    assert missing.value.code == "key_missing"


def test_access_log_is_append_only_and_forwards_what_is_unsent(tmp_path):
    config = _config(tmp_path)
    log = EdgeAccessLog(access_log_path(config), lambda: T0)
    a = log.record(kind="live", outcome="refused", reason="paused", camera_id="c1", agency_id="a1")
    b = log.record(kind="clip", outcome="allowed", reason="always", camera_id="c1", case_number="26-1")
    assert [e.entry_id for e in log.unsent()] == [a.entry_id, b.entry_id]
    log.mark_sent([a.entry_id])
    assert [e.entry_id for e in log.unsent()] == [b.entry_id]
    log.close()
    raw = sqlite3.connect(access_log_path(config))
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("DELETE FROM entry")
    with pytest.raises(sqlite3.DatabaseError, match="append-only"):
        raw.execute("UPDATE entry SET reason = 'nothing happened'")
    raw.close()
    out = io.StringIO()
    assert print_log(config, 10, out) == 0
    lines = out.getvalue().splitlines()
    assert len(lines) == 2 and "refused" in lines[0] and "case 26-1" in lines[1]
    with pytest.raises(ValueError):  # only what the protocol can carry is ever written
        EdgeAccessLog(access_log_path(config)).record(kind="peek", outcome="allowed", reason="x")


def test_health_report_carries_alarms_once_cleared_and_waits_for_the_link():
    alarms = Alarms(lambda: T0)
    sent, up = [], [False]
    reporter = HealthReporter(lambda m: sent.append(m) or True, lambda: up[0], type("C", (), {"now": lambda s: T0})(),
                              alarms, cameras=lambda: [CameraHealth(camera_id="c1", online=False)],
                              queued_reads=lambda: 7)
    alarms.raise_("disk_full", "full")
    alarms.clear("disk_full")
    assert reporter.report() is False and sent == []  # the cleared alarm waits for a link that hears it
    up[0] = True
    assert reporter.report()
    assert sent[0].queued_reads == 7 and [(a.code, a.cleared) for a in sent[0].alarms] == [("disk_full", True)]
    reporter.report()
    assert sent[1].alarms == []


def test_link_address_and_tls(tmp_path):
    assert link_url(_config(tmp_path, "https://hub.example.org/rtcc")) == "wss://hub.example.org/rtcc/api/edge/link"
    assert link_url(_config(tmp_path)) == "ws://127.0.0.1:8000/api/edge/link"
    assert tls_context(_config(tmp_path)) is None
    ctx = tls_context(_config(tmp_path, "https://hub.example.org"))
    assert ctx.check_hostname and ctx.verify_mode.name == "CERT_REQUIRED"


def test_codes_are_typed_forgivingly_and_attempts_limited():
    assert normalise_code(" abcde-fghjk ") == "ABCDEFGHJK"
    limiter = AttemptLimiter(limit=3, window=timedelta(minutes=15))
    for i in range(3):
        limiter.check("10.0.0.1", T0 + timedelta(seconds=i))
    with pytest.raises(TooManyAttempts):
        limiter.check("10.0.0.1", T0 + timedelta(minutes=1))
    limiter.check("10.0.0.2", T0 + timedelta(minutes=1))  # per address
    limiter.check("10.0.0.1", T0 + timedelta(minutes=16))  # the window slides
