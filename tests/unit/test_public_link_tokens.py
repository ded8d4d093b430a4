"""Signed public links refuse, rather than crash on, tokens that anyone may type: non-ASCII characters and
Unicode digits (found by the API fuzzer: both were 500s)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.public_links import confirm_token, unsubscribe_token, verify_confirm_token, verify_unsubscribe_token

KEY = b"k" * 32
NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


@pytest.mark.parametrize("token", ["\u00b9\u0013", "\u00fep", "é" * 32, "", "\x00"])
def test_an_unsubscribe_token_with_any_characters_is_refused(token):
    assert verify_unsubscribe_token(KEY, "sub-1", token) is False


@pytest.mark.parametrize("token", ["\u00b9\u00b2.abc", "12.\u00fe", "١٢٣.x", ".", "99999999999999.x"])
def test_a_confirm_token_with_any_characters_is_refused(token):
    assert verify_confirm_token(KEY, "sub-1", token, NOW) is False


def test_genuine_tokens_still_verify():
    assert verify_unsubscribe_token(KEY, "sub-1", unsubscribe_token(KEY, "sub-1"))
    assert verify_confirm_token(KEY, "sub-1", confirm_token(KEY, "sub-1", NOW + timedelta(days=1)), NOW)
