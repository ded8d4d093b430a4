"""The process's logging: text for people at a terminal or one JSON object a line for a log shipper, each record
naming the process, its role and the request it belongs to, secrets masked.

`configure_logging` installs one handler on the root logger; uvicorn's loggers reach it too (the commands start
uvicorn with `log_config=None`, so uvicorn keeps no handlers of its own). The request id is a context variable
the web layer sets per request (`web.request_ids`); it follows the request into the thread pool that runs its
handler, so every record written on the request's behalf carries it.
"""

from __future__ import annotations

import json
import logging
import os
import socket
import sys
import traceback
from contextvars import ContextVar
from datetime import UTC, datetime
from typing import TextIO

from openrtcc.log_redaction import SecretRedaction

REQUEST_ID: ContextVar[str | None] = ContextVar("rtcc_request_id", default=None)
TEXT_FORMAT = "%(asctime)s %(levelname)s %(name)s: %(message)s%(request_suffix)s"
# Alembic and the HTTP client narrate every step at INFO; the operator wants our messages, and warnings.
CHATTY_LOGGERS = ("alembic", "httpx", "httpcore")


def process_identity(process_name: str | None, role: str) -> str:
    """The name of this process in logs: the configured one, or role@host:pid."""
    return process_name or f"{role}@{socket.gethostname()}:{os.getpid()}"


class ProcessContext(logging.Filter):
    """Adds the process's name and role, and the current request's id, to every record."""

    def __init__(self, process: str, role: str):
        super().__init__()
        self.process, self.role = process, role

    def filter(self, record: logging.LogRecord) -> bool:
        request_id = REQUEST_ID.get()
        record.process_name, record.role, record.request_id = self.process, self.role, request_id
        record.request_suffix = f" [request {request_id}]" if request_id else ""
        return True


class JsonFormatter(logging.Formatter):
    """One JSON object a line: ts (ISO 8601, UTC), level, logger, message, process, role, request_id when the
    record belongs to a request, exc_type and traceback when it carries an exception."""

    def format(self, record: logging.LogRecord) -> str:
        entry = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z"),
            "level": record.levelname,
            "logger": record.name,
            "message": record.getMessage(),
            "process": getattr(record, "process_name", None),
            "role": getattr(record, "role", None),
        }
        request_id = getattr(record, "request_id", None)
        if request_id:
            entry["request_id"] = request_id
        if record.exc_info and record.exc_info[0] is not None:
            entry["exc_type"] = record.exc_info[0].__name__
            entry["traceback"] = record.exc_text or "".join(traceback.format_exception(*record.exc_info))
        elif record.exc_text:
            entry["traceback"] = record.exc_text
        return json.dumps(entry, ensure_ascii=False, default=str)


class _OurHandler(logging.StreamHandler):
    """The handler configure_logging installs (so that calling it again replaces it, and only it)."""


def log_handler(log_format: str = "text", *, role: str = "rtcc", process_name: str | None = None,
                stream: TextIO | None = None) -> logging.Handler:
    """A handler writing `log_format` records to `stream` (stderr), with the process's context and secrets masked."""
    handler = _OurHandler(stream or sys.stderr)
    handler.addFilter(ProcessContext(process_identity(process_name, role), role))
    handler.addFilter(SecretRedaction())
    handler.setFormatter(JsonFormatter() if log_format == "json" else logging.Formatter(TEXT_FORMAT))
    return handler


def configure_logging(log_format: str = "text", level: str = "INFO", *, role: str = "rtcc",
                      process_name: str | None = None, stream: TextIO | None = None) -> logging.Handler | None:
    """Install the process's log handler on the root logger. A root logger that already has handlers of
    someone else's (a test runner capturing logs) is left as it is, as logging.basicConfig would."""
    root = logging.getLogger()
    ours = [h for h in root.handlers if isinstance(h, _OurHandler)]
    if len(ours) != len(root.handlers):
        return None
    for old in ours:
        root.removeHandler(old)
    handler = log_handler(log_format, role=role, process_name=process_name, stream=stream)
    root.addHandler(handler)
    root.setLevel(level)
    for chatty in CHATTY_LOGGERS:
        logging.getLogger(chatty).setLevel(logging.WARNING)
    return handler


def configure_from_environment(role: str) -> None:
    """Logging as RTCC_LOG_FORMAT, RTCC_LOG_LEVEL and RTCC_PROCESS_NAME say; settings that do not validate leave
    the defaults here (the command itself reports them)."""
    from openrtcc.config import Settings

    try:
        settings = Settings()
        log_format, level, name = settings.log_format, settings.log_level, settings.process_name
    except Exception:  # a bad setting anywhere: the command that reads it says which
        log_format, level, name = "text", "INFO", None
    configure_logging(log_format, level, role=role, process_name=name)
