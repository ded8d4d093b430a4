"""Tokens that travel in a URL (a Plate Recognizer webhook's path, a notice socket's `?token=`) kept out of the
server's access log, which prints each request's path and query."""

from __future__ import annotations

import logging
import re

ACCESS_LOGGER = "uvicorn.access"
_PATH_TOKEN = re.compile(r"(/api/ingest/plate-recognizer/[^/?\s]+/)[^/?\s]+")
_QUERY_TOKEN = re.compile(r"([?&](?:token|t)=)[^&\s]+", re.IGNORECASE)


def redact_url(path: str) -> str:
    return _QUERY_TOKEN.sub(r"\1<redacted>", _PATH_TOKEN.sub(r"\1<redacted>", path))


class AccessLogRedaction(logging.Filter):
    """Rewrites the path in uvicorn's access-log records (HTTP: client, method, path, version, status;
    WebSocket: client, path)."""

    def filter(self, record: logging.LogRecord) -> bool:
        if isinstance(record.args, tuple):
            record.args = tuple(redact_url(a) if isinstance(a, str) and a.startswith("/") else a
                                for a in record.args)
        return True


def install_access_log_redaction() -> None:
    """Once per process, however many apps are built."""
    logger = logging.getLogger(ACCESS_LOGGER)
    if not any(isinstance(f, AccessLogRedaction) for f in logger.filters):
        logger.addFilter(AccessLogRedaction())
