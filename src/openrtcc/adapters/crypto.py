"""Password hashing (argon2id) and TOTP (RFC 6238) behind the domain's ports."""

from __future__ import annotations

from datetime import datetime

import pyotp
from argon2 import PasswordHasher as _Argon2
from argon2.exceptions import InvalidHashError, VerificationError


class Argon2Passwords:
    def __init__(self, fast_for_tests: bool = False):
        # The argon2-cffi defaults follow RFC 9106's low-memory profile; tests may ask for a cheap one.
        self._h = _Argon2(time_cost=1, memory_cost=1024, parallelism=1) if fast_for_tests else _Argon2()

    def hash(self, password: str) -> str:
        return self._h.hash(password)

    def verify(self, hashed: str, password: str) -> bool:
        try:
            return self._h.verify(hashed, password)
        except (VerificationError, InvalidHashError):
            return False


class PyOtpTotp:
    interval = 30

    def new_secret(self) -> str:
        return pyotp.random_base32(32)  # 160 bits

    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str:
        return pyotp.TOTP(secret).provisioning_uri(name=account, issuer_name=issuer)

    def matching_step(self, secret: str, code: str, now: datetime) -> int | None:
        code = (code or "").strip().replace(" ", "")
        if not code.isdigit() or len(code) != 6:
            return None
        totp = pyotp.TOTP(secret)
        step = int(now.timestamp()) // self.interval
        for s in (step, step - 1, step + 1):
            if pyotp.utils.strings_equal(totp.at(s * self.interval), code):
                return s
        return None
