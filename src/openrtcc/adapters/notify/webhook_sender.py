"""The webhook channel: each delivery POSTed as signed JSON to its subscriber's URL, many at once, kept alive.

Body: the delivery's JSON document, compact. Headers: `X-RTCC-Signature` and `X-RTCC-Delivery: rtcc-<delivery
id, 8 digits>` from domain/webhook_signing.sign with the subscriber's secret (the receiver checks them with the same
secret; docs/command-center.md shows how). A 2xx answer is handed; 408, 429, 5xx, time-outs and refused or
dropped connections are tried again later; any other answer, a redirect included (never followed: a redirect
could point inside the hub's network), is refused for good. Every connection goes through `GuardedNetwork`,
which resolves the host itself and refuses private addresses at that moment, so a name that re-binds after
the subscription was checked gets nowhere."""

from __future__ import annotations

import json
import logging
import threading
import time
from collections.abc import Sequence

import httpcore
import httpx

from openrtcc.adapters.notify.outbound_guard import (UnresolvedOutboundHost, UnsafeOutboundUrl, parse_outbound_url,
                                                    resolve_checked)
from openrtcc.adapters.notify.sender_threads import SenderThreads
from openrtcc.domain.clock import Clock
from openrtcc.domain.dissemination import OutboundMessage, SendOutcome
from openrtcc.domain.webhook_signing import sign

log = logging.getLogger(__name__)

USER_AGENT = "OpenRTCC-Webhooks/1"
RETRYABLE_STATUS = frozenset({408, 425, 429})
MAX_ANSWER_BYTES = 64 * 1024  # what is read of a receiver's answer; the status is all that counts


class GuardedNetwork(httpcore.SyncBackend):
    """httpcore's own network backend, except that it resolves and checks the host before connecting and then
    connects to the checked address (TLS still verifies the certificate against the host name)."""

    def __init__(self, allow_private: bool):
        self.allow_private = allow_private

    def connect_tcp(self, host, port, timeout=None, local_address=None, socket_options=None):
        addresses = resolve_checked(host, port, allow_private=self.allow_private)
        last: Exception | None = None
        for address in addresses:
            try:
                return super().connect_tcp(address, port, timeout, local_address, socket_options)
            except (httpcore.ConnectError, httpcore.ConnectTimeout) as exc:
                last = exc
        raise last  # type: ignore[misc]


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport with its connection pool built on GuardedNetwork (httpx offers no argument for a
    network backend, so the pool it made is replaced by an identical one that has it)."""

    def __init__(self, *, allow_private: bool, limits: httpx.Limits):
        super().__init__(trust_env=False, limits=limits)
        self._pool = httpcore.ConnectionPool(
            ssl_context=httpx.create_ssl_context(), max_connections=limits.max_connections,
            max_keepalive_connections=limits.max_keepalive_connections, keepalive_expiry=limits.keepalive_expiry,
            network_backend=GuardedNetwork(allow_private))


class WebhookSender:
    def __init__(self, clock: Clock, *, timeout_s: float = 5.0, concurrency: int = 32, allow_private: bool = False):
        self.clock = clock
        self.concurrency = concurrency
        self.timeout_s = timeout_s
        self.allow_private = allow_private
        self._client: httpx.Client | None = None
        self._threads = SenderThreads(concurrency, "webhook-send")
        self._lock = threading.Lock()

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]:
        self._open()
        if len(messages) == 1:
            return [self._post(messages[0])]
        return self._threads.map(self._post, messages)

    def close(self) -> None:
        """Close the connections and threads; a later send opens new ones (the app may start again)."""
        with self._lock:
            client, self._client = self._client, None
        self._threads.close()
        if client is not None:
            client.close()

    def _open(self) -> None:
        with self._lock:
            if self._client is None:
                limits = httpx.Limits(max_connections=self.concurrency, max_keepalive_connections=self.concurrency,
                                      keepalive_expiry=30.0)
                transport = GuardedTransport(allow_private=self.allow_private, limits=limits)
                self._client = httpx.Client(transport=transport, timeout=httpx.Timeout(self.timeout_s),
                                            follow_redirects=False, trust_env=False,
                                            headers={"User-Agent": USER_AGENT, "Content-Type": "application/json"})

    def _post(self, message: OutboundMessage) -> SendOutcome:
        try:
            return self._attempt(message)
        except Exception as exc:  # one receiver's trouble never stops the batch
            log.exception("webhook delivery %s: unexpected %s", message.delivery_id, type(exc).__name__)
            return SendOutcome(message.delivery_id, False, f"internal error: {type(exc).__name__}")

    def _attempt(self, message: OutboundMessage) -> SendOutcome:
        did = message.delivery_id
        if not message.secret:
            return SendOutcome(did, False, "the webhook subscription has no signing secret", retryable=False)
        try:
            target = parse_outbound_url(message.address, ("https", "http"))
        except UnsafeOutboundUrl as exc:
            return SendOutcome(did, False, str(exc), retryable=False)
        body = json.dumps(message.data, separators=(",", ":"), ensure_ascii=False, default=str).encode()
        headers = sign(message.secret, self.clock.now(), signed_delivery_id(did), body)
        try:
            status = self._post_for_status(message.address, body, headers)
        except UnsafeOutboundUrl as exc:
            return SendOutcome(did, False, str(exc), retryable=False)
        except UnresolvedOutboundHost as exc:
            return SendOutcome(did, False, str(exc))
        except httpx.InvalidURL:
            return SendOutcome(did, False, "the webhook URL is not valid", retryable=False)
        except httpx.TimeoutException:
            return SendOutcome(did, False, f"{target.redacted} did not answer in time")
        except httpx.HTTPError as exc:
            return SendOutcome(did, False, f"{target.redacted}: {type(exc).__name__}")
        return _outcome(did, status, target.redacted)

    def _post_for_status(self, url: str, body: bytes, headers: dict[str, str]) -> int:
        """POST and read at most MAX_ANSWER_BYTES of the answer within the time-out: a receiver cannot hold a
        sender thread with an endless or dripping answer (the connection is then dropped, not reused)."""
        started = time.monotonic()
        with self._client.stream("POST", url, content=body, headers=headers) as response:
            read = 0
            for chunk in response.iter_raw():
                read += len(chunk)
                if read > MAX_ANSWER_BYTES or time.monotonic() - started > self.timeout_s:
                    break
            return response.status_code


def signed_delivery_id(delivery_id: int) -> str:
    """`rtcc-<delivery id>`, zero-padded to the 8 characters webhook_signing asks of an id; a retry keeps it."""
    return f"rtcc-{delivery_id:08d}"


def _outcome(delivery_id: int, status: int, where: str) -> SendOutcome:
    if 200 <= status < 300:
        return SendOutcome(delivery_id, True)
    if 300 <= status < 400:
        return SendOutcome(delivery_id, False, f"{where} answered a redirect ({status}); redirects are not "
                           "followed: point the subscription at the final URL", retryable=False)
    retryable = status >= 500 or status in RETRYABLE_STATUS
    return SendOutcome(delivery_id, False, f"{where} answered HTTP {status}", retryable=retryable)
