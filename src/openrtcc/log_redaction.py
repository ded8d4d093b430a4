"""The last line of defence against secrets in logs: bearer tokens, the hub's keys and passwords in URLs are
masked in every record, whatever code wrote it.

Code must not log secrets in the first place (camera URLs are logged through `edge.url_guard.redact`, errors by
their type name); this filter catches what slips through: an exception message quoting a URL, a library that
logs a request's headers.
"""

from __future__ import annotations

import logging
import re

MASK = "<redacted>"
# `Authorization: Bearer <token>` and a bare "Bearer <token>" in a message.
_BEARER = re.compile(r"(?i)\b(bearer\s+)[A-Za-z0-9._~+/=-]{8,}")
# The hub's own key formats: read sources' keys (rtcc_src_...), edge boxes' keys (rtcc_edge_...) and Plate
# Recognizer webhook tokens (rtcc_pr_...); metric names (rtcc_http_...) are left alone.
_HUB_KEY = re.compile(r"\brtcc_(?:src|edge|pr)_[A-Za-z0-9_-]{8,}")
# scheme://user:password@host: the password (and the user, which may be an account name) go.
_URL_CREDENTIALS = re.compile(r"(?i)\b([a-z][a-z0-9+.-]{1,20}://)[^/\s:@]*:[^/\s@]*@")
# token=..., password=..., secret=... in a query string or a key=value message.
_NAMED_SECRET = re.compile(r"(?i)\b((?:access_)?token|password|passwd|secret|api_key|apikey)=([^&\s\"',;]+)")


def redact_secrets(text: str) -> str:
    text = _URL_CREDENTIALS.sub(lambda m: f"{m.group(1)}{MASK}@", text)
    text = _BEARER.sub(lambda m: f"{m.group(1)}{MASK}", text)
    text = _HUB_KEY.sub(MASK, text)
    return _NAMED_SECRET.sub(lambda m: f"{m.group(1)}={MASK}", text)


class SecretRedaction(logging.Filter):
    """Masks secrets in a record's finished message and its traceback. The message is formatted here once
    (`record.msg` becomes the masked text, `args` empty), so every handler and formatter sees the masked one."""

    def filter(self, record: logging.LogRecord) -> bool:
        try:
            message = record.getMessage()
        except Exception:  # arguments that do not fit the format: logging reports that itself
            return True
        masked = redact_secrets(message)
        if masked != message or record.args:
            record.msg, record.args = masked, ()
        if record.exc_info and record.exc_info[1] is not None and not record.exc_text:
            record.exc_text = redact_secrets(logging.Formatter().formatException(record.exc_info))
        elif record.exc_text:
            record.exc_text = redact_secrets(record.exc_text)
        return True
