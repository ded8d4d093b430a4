"""The clock and id ports: injected everywhere so time and ids are testable."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime
from typing import Protocol


class Clock(Protocol):
    def now(self) -> datetime:
        """Current time, timezone-aware UTC."""
        ...


class SystemClock:
    def now(self) -> datetime:
        return datetime.now(UTC)


class IdFactory(Protocol):
    def new_id(self) -> str: ...


class UuidFactory:
    def new_id(self) -> str:
        return str(uuid.uuid4())
