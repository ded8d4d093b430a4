"""Test rigs for the public forms: a real SMTP server that keeps what it receives, and the links in a message."""

from __future__ import annotations

import re
import time
from email import message_from_bytes
from email.policy import default as default_policy
from urllib.parse import parse_qs, urlsplit

from aiosmtpd.controller import Controller

LINK = re.compile(r"https?://\S+/(?:subscribe/confirm|unsubscribe)\?s=[^\s&]+&t=[^\s]+")


class Mailbox:
    """aiosmtpd handler keeping every message it accepts."""

    def __init__(self):
        self.messages: list = []

    async def handle_DATA(self, server, session, envelope):
        self.messages.append((list(envelope.rcpt_tos), message_from_bytes(envelope.content, policy=default_policy)))
        return "250 Message accepted for delivery"

    def to(self, address: str) -> list:
        return [m for rcpts, m in self.messages if address in rcpts]

    def wait_for(self, address: str, count: int = 1, timeout: float = 10.0) -> list:
        deadline = time.monotonic() + timeout
        while len(self.to(address)) < count:
            if time.monotonic() > deadline:
                raise AssertionError(f"{count} message(s) to {address} did not arrive; got {len(self.to(address))}")
            time.sleep(0.05)
        return self.to(address)


def start_smtp(port: int) -> tuple[Controller, Mailbox]:
    box = Mailbox()
    ctl = Controller(box, hostname="127.0.0.1", port=port)
    ctl.start()
    return ctl, box


def body_of(message) -> str:
    part = message.get_body(preferencelist=("plain",)) or message
    return part.get_content()


def link_in(message) -> tuple[str, str, str]:
    """(url, s, t) of the first confirmation or unsubscribe link in a message's text."""
    found = LINK.search(body_of(message))
    assert found, body_of(message)
    query = parse_qs(urlsplit(found.group(0)).query)
    return found.group(0), query["s"][0], query["t"][0]
