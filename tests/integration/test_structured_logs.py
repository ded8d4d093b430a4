"""Structured logs: with the JSON format every record is one object a line with its time, level, logger, process,
role and request id; the request id is the caller's X-Request-Id when it is a plain token, else a new one, and is
echoed; keys, tokens and passwords in URLs never reach the output."""

from __future__ import annotations

import io
import json
import logging
import re

import pytest

from openrtcc.log_setup import log_handler

SQLITE = pytest.mark.parametrize("backend", ["sqlite"])

EDGE_KEY = "rtcc_edge_Q2hvb3NlIGEgc2VjcmV0IGtleSBub3cgcGxlYXNl"
ISO_UTC = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z")


@pytest.fixture
def logs():
    """The process's log handler as `rtcc serve` installs it, writing here; yields a reader of what it wrote."""
    out = {"json": io.StringIO(), "text": io.StringIO()}
    handlers = [log_handler(fmt, role="serve", process_name="serve-a", stream=stream) for fmt, stream in out.items()]
    root = logging.getLogger()
    level = root.level
    for h in handlers:
        root.addHandler(h)
    root.setLevel(logging.INFO)
    yield out
    for h in handlers:
        root.removeHandler(h)
    root.setLevel(level)


def records(out) -> list[dict]:
    return [json.loads(line) for line in out["json"].getvalue().splitlines()]


@SQLITE
def test_a_refused_edge_key_is_logged_as_json_with_the_request_id_and_without_the_key(anon, logs):
    r = anon.post("/api/edge/reads", json={"reads": []},
                  headers={"Authorization": f"Bearer {EDGE_KEY}", "X-Request-Id": "ticket-4711-a"})
    assert r.status_code == 401 and r.headers["x-request-id"] == "ticket-4711-a"
    [refusal] = [rec for rec in records(logs) if rec["logger"] == "openrtcc.web.errors"]
    assert ISO_UTC.fullmatch(refusal.pop("ts"))
    assert refusal == {"level": "INFO", "logger": "openrtcc.web.errors", "process": "serve-a", "role": "serve",
                       "message": "refused POST /api/edge/reads: edge_key_refused", "request_id": "ticket-4711-a"}
    text = logs["text"].getvalue()
    assert "refused POST /api/edge/reads: edge_key_refused [request ticket-4711-a]" in text
    for output in (logs["json"].getvalue(), text):
        assert EDGE_KEY not in output and EDGE_KEY[10:] not in output


@SQLITE
def test_a_request_id_that_is_not_a_plain_token_is_replaced_and_each_request_gets_its_own(anon):
    for given in ("short", "x" * 129, "has space 12345", "semi;colon;12345", "<script>x</script>",
                  "caf\u00e9-12345678", ""):
        r = anon.get("/healthz", headers={"X-Request-Id": given.encode("utf-8")})
        assert r.status_code == 200
        assert re.fullmatch(r"[0-9a-f]{32}", r.headers["x-request-id"]) and r.headers["x-request-id"] != given
    ids = {anon.get("/healthz").headers["x-request-id"] for _ in range(3)}
    assert len(ids) == 3


def test_an_exception_is_logged_with_its_type_and_a_masked_traceback(logs):
    log = logging.getLogger("openrtcc.edge.capture")
    try:
        raise ConnectionError("cannot open rtsp://admin:hunter2@10.0.0.5/stream1 (Authorization: Bearer abcdefgh1234)")
    except ConnectionError:
        log.exception("camera %s: stream failed at %s", "cam-1", "rtsp://admin:hunter2@10.0.0.5/stream1")
    [rec] = records(logs)
    assert rec["level"] == "ERROR" and rec["exc_type"] == "ConnectionError" and "request_id" not in rec
    assert rec["message"] == "camera cam-1: stream failed at rtsp://<redacted>@10.0.0.5/stream1"
    assert "Traceback" in rec["traceback"] and "rtsp://<redacted>@10.0.0.5" in rec["traceback"]
    for output in (logs["json"].getvalue(), logs["text"].getvalue()):
        assert "hunter2" not in output and "abcdefgh1234" not in output
