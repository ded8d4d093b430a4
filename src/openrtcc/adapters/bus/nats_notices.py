"""The dissemination WebSocket channel across hub processes (city mode).

The dissemination worker runs in a worker process; a subscriber's screens hold their `/ws/notices` sockets on
serve processes. Each serve process listens on `<ns>.notices.<subscriber id>` while it holds at least one
socket of that subscriber (`watch` on the first, `unwatch` after the last); the worker's sender asks on that
subject, and a serve process that queued the message to a socket answers. An answer means "handed", as a
queued socket does in one process; no answer in time (no screen connected anywhere, or NATS away) means not
handed, and the delivery is tried again later like any other.
"""

from __future__ import annotations

import asyncio
import json
import logging
import re
from collections.abc import Callable, Sequence

import nats.errors

from openrtcc.adapters.bus.nats_link import NatsLink, NatsUnavailable
from openrtcc.domain.dissemination import OutboundMessage, SendOutcome

log = logging.getLogger(__name__)

REPLY_TIMEOUT_S = 2.0
SUBSCRIBER_ID = re.compile(r"[A-Za-z0-9_-]{1,64}")  # one subject token: never a wildcard or a separator
HANDED = b"1"


def notice_text(message: OutboundMessage) -> str:
    """What a `/ws/notices` socket receives for one delivery."""
    return json.dumps({"type": "notice", "delivery_id": message.delivery_id, "subject": message.subject,
                       "text": message.text, "notice": message.data},
                      separators=(",", ":"), ensure_ascii=False, default=str)


class NatsNoticeRelay:
    """Both ends: a serve process's listening per subscriber, and the channel sender (ChannelKind.WEBSOCKET)."""

    def __init__(self, link: NatsLink, namespace: str, reply_timeout_s: float = REPLY_TIMEOUT_S):
        self.link = link
        self.namespace = namespace
        self.reply_timeout_s = reply_timeout_s
        self._subs: dict[str, object] = {}  # subscriber id -> its NATS subscription (touched on the link's loop)
        self._order = asyncio.Lock()  # a watch and the unwatch after it run in the order they were asked

    def subject(self, subscriber_id: str) -> str:
        if not SUBSCRIBER_ID.fullmatch(subscriber_id):
            raise ValueError("a subscriber id is letters, digits, '-' and '_'")
        return f"{self.namespace}.notices.{subscriber_id}"

    # --- serve side ---
    def watch(self, subscriber_id: str, offer: Callable[[str, str], int]) -> None:
        """Listen for the subscriber's notices; `offer(subscriber_id, text)` queues one, returning the sockets
        that took it. Returns at once (it may be called on a web event loop)."""
        subject = self.subject(subscriber_id)

        async def received(msg) -> None:
            if offer(subscriber_id, msg.data.decode()) and msg.reply:
                await msg.respond(HANDED)

        async def subscribe() -> None:
            async with self._order:
                if subscriber_id not in self._subs:
                    self._subs[subscriber_id] = await self.link.nc.subscribe(subject, cb=received)

        self._later(subscribe(), "watch")

    def unwatch(self, subscriber_id: str) -> None:
        async def unsubscribe() -> None:
            async with self._order:
                sub = self._subs.pop(subscriber_id, None)
                if sub is not None:
                    await sub.unsubscribe()

        self._later(unsubscribe(), "unwatch")

    def watching(self) -> int:
        return len(self._subs)

    def _later(self, coro, what: str) -> None:
        async def guarded() -> None:
            try:
                await coro
            except Exception as exc:  # NATS away: the subscription is made again by the client on reconnect
                log.warning("notice relay: %s failed (%s)", what, type(exc).__name__)

        self.link.spawn(guarded())

    # --- worker side: the ChannelSender ---
    def send(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        if not messages:
            return []
        try:
            answers = self.link.call(lambda: asyncio.gather(*(self._ask(m) for m in messages)),
                                     self.reply_timeout_s + 5.0)
        except NatsUnavailable:
            return [SendOutcome(m.delivery_id, False, "the message bus (NATS) is unavailable") for m in messages]
        return [SendOutcome(m.delivery_id, True) if handed
                else SendOutcome(m.delivery_id, False, "no screen of this subscriber is connected")
                for m, handed in zip(messages, answers, strict=True)]

    async def _ask(self, message: OutboundMessage) -> bool:
        try:
            subject = self.subject(message.address)
        except ValueError:
            return False
        try:
            reply = await self.link.nc.request(subject, notice_text(message).encode(), timeout=self.reply_timeout_s)
        except (nats.errors.NoRespondersError, nats.errors.TimeoutError):
            return False
        except Exception as exc:  # the connection dropped meanwhile: not handed, tried again later
            log.info("notice relay: a request failed (%s)", type(exc).__name__)
            return False
        return reply.data == HANDED
