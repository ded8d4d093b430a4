"""Tokens in URLs (a Plate Recognizer webhook's path, `?token=`, an unsubscribe link's `t=`) never reach the
access log."""

from __future__ import annotations

import logging

from openrtcc.web.access_log_redaction import ACCESS_LOGGER, AccessLogRedaction, install_access_log_redaction


def test_access_log_records_lose_their_tokens(caplog):
    install_access_log_redaction()
    install_access_log_redaction()  # once per process, however many apps
    logger = logging.getLogger(ACCESS_LOGGER)
    assert sum(isinstance(f, AccessLogRedaction) for f in logger.filters) == 1
    with caplog.at_level(logging.INFO, logger=ACCESS_LOGGER):
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5000", "POST",
                    "/api/ingest/plate-recognizer/int-1/rtcc_pr_SECRET1", "1.1", 200)
        logger.info('%s - "WebSocket %s" [accepted]', "127.0.0.1:5001", "/ws/notices?subscriber=s1&token=SECRET2")
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5002", "GET", "/unsubscribe?s=s1&t=SECRET3", "1.1", 200)
        logger.info('%s - "%s %s HTTP/%s" %d', "127.0.0.1:5003", "GET", "/api/ingest/plate-recognizer/x", "1.1", 405)
    text = caplog.text
    assert "SECRET" not in text
    assert "/api/ingest/plate-recognizer/int-1/<redacted>" in text and "subscriber=s1&token=<redacted>" in text
    assert "/unsubscribe?s=s1&t=<redacted>" in text and "/api/ingest/plate-recognizer/x HTTP" in text
