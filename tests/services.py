"""Skip, or in CI fail, when a real component a test needs is not running."""

from __future__ import annotations

import os

import pytest

MISSING_PREFIX = "needs a service that is not installed:"


def require_service(available: bool, name: str, install: str) -> None:
    if available:
        return
    message = f"{MISSING_PREFIX} {name}. Install: {install}"
    if os.environ.get("RTCC_REQUIRE_SERVICES") == "1":
        pytest.fail(f"{message} (RTCC_REQUIRE_SERVICES=1: CI installs every service, so this is a failure)")
    pytest.skip(message)
