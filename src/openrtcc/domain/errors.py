"""Domain errors: each maps to one clear client-facing outcome at the edges."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every rule violation; `code` is a stable machine-readable name."""

    code = "invalid"

    def __init__(self, message: str, *, code: str | None = None, details: dict | None = None):
        super().__init__(message)
        self.message = message
        if code:
            self.code = code
        self.details = details or {}


class InvalidInput(DomainError):
    code = "invalid_input"


class NotFound(DomainError):
    code = "not_found"


class Forbidden(DomainError):
    code = "forbidden"


class Unauthenticated(DomainError):
    code = "unauthenticated"


class Conflict(DomainError):
    code = "conflict"


class AuditUnavailable(DomainError):
    """The audit record could not be written, so the action it describes is refused."""

    code = "audit_unavailable"


class Gone(DomainError):
    """It existed and is over (an ended live session): the caller should stop asking."""

    code = "gone"


class Unavailable(DomainError):
    """Refused for now for want of capacity; the same request may succeed later."""

    code = "unavailable"


class RateLimited(DomainError):
    """Over a rate limit: `details["retry_after_s"]` says when the same request may be made again."""

    code = "rate_limited"


class PayloadTooLarge(DomainError):
    """A request body over what its endpoint takes (a webhook reads a few KiB at most): 413."""

    code = "too_large"


class TamperedMedia(DomainError):
    """A stored file failed its integrity check (altered, swapped, cut short, or never sealed): it is not served."""

    code = "tampered_media"
