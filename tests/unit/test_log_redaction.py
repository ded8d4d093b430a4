"""The log redaction filter masks bearer tokens, the hub's keys, passwords in URLs and named secrets, and leaves
everything else (metric names, ids, paths) as it was."""

from __future__ import annotations

import pytest

from openrtcc.log_redaction import redact_secrets


@pytest.mark.parametrize("raw, masked", [
    ("Authorization: Bearer eyJhbGciOiJIUzI1NiJ9.e30.sig", "Authorization: Bearer <redacted>"),
    ("source key rtcc_src_AbC-123_xyz456789 refused", "source key <redacted> refused"),
    ("box rtcc_edge_0123456789abcdef linked", "box <redacted> linked"),
    ("webhook /api/ingest/plate-recognizer/i1/rtcc_pr_Zz99Yy88Xx77",
     "webhook /api/ingest/plate-recognizer/i1/<redacted>"),
    ("rtsp://admin:hunter2@10.0.0.5:554/s1", "rtsp://<redacted>@10.0.0.5:554/s1"),
    ("postgresql+psycopg://rtcc:s3cr3t@db.city.local/rtcc", "postgresql+psycopg://<redacted>@db.city.local/rtcc"),
    ("mqtt://frigate:pa:ss@broker:1883", "mqtt://<redacted>@broker:1883"),
    ("GET /ws/notices?subscriber=s1&token=abc123", "GET /ws/notices?subscriber=s1&token=<redacted>"),
    ("password=letmein retrying", "password=<redacted> retrying"),
])
def test_secrets_are_masked(raw, masked):
    assert redact_secrets(raw) == masked


@pytest.mark.parametrize("plain", [
    "metric rtcc_alerts_raised_total: label refused; sample dropped",
    "rtsp://10.0.0.5:554/stream1",
    "https://hub.city.example/api/cameras/3f2a9c",
    "read partitions made: plate_read_p20261119",
    "bearer of bad news",
])
def test_other_text_is_left_alone(plain):
    assert redact_secrets(plain) == plain
