"""A webhook receiver as a subscriber would run one: it VERIFIES every delivery's signature, ignores replays.

HTTP/1.1 with keep-alive on loopback (threads per connection), verification with domain/webhook_signing.verify
and the subscriber's secret; a delivery id seen before is answered 200 and not processed again (the hub retries
with the same id when it missed the answer; a replay by someone else changes nothing). Paths choose the
answer so a test can see each outcome: `/ok`, `/status/<code>`, `/redirect` (302 to `/ok`), `/slow`
(answers after `slow_s`), `/endless` (a 1 GB answer, dripped)."""

from __future__ import annotations

import contextlib
import json
import ssl
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from datetime import UTC, datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

from openrtcc.domain.errors import Forbidden
from openrtcc.domain.webhook_signing import verify


@dataclass
class WebhookReceiver:
    secret: str
    port: int = 0
    slow_s: float = 2.0
    received: list[dict] = field(default_factory=list)  # verified bodies, parsed
    delivery_ids: list[str] = field(default_factory=list)
    refusals: list[str] = field(default_factory=list)  # Forbidden codes, "replayed"
    paths: list[str] = field(default_factory=list)  # every request's path, verified or not
    connections: int = 0
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"


class ReceiverHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rx: WebhookReceiver

    def setup(self) -> None:
        super().setup()
        with self.rx.lock:
            self.rx.connections += 1

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        rx = self.rx
        with rx.lock:
            rx.paths.append(self.path)
        try:
            delivery = verify(rx.secret, dict(self.headers.items()), body, datetime.now(UTC))
        except Forbidden as exc:
            with rx.lock:
                rx.refusals.append(exc.code)
            return self._answer(401, exc.code)
        with rx.lock:
            if delivery.delivery_id in rx.delivery_ids:
                rx.refusals.append("replayed")
                return self._answer(200, "already processed")
            rx.delivery_ids.append(delivery.delivery_id)
        if self.path == "/redirect":
            return self._answer(302, "moved", location="/ok")
        if self.path.startswith("/status/"):
            return self._answer(int(self.path.rsplit("/", 1)[1]), "as asked")
        if self.path == "/endless":  # announces 1 GB and sends it slowly: the sender must not read it all
            self.send_response(200)
            self.send_header("Content-Length", str(1 << 30))
            self.end_headers()
            with contextlib.suppress(OSError):
                for _ in range(200):
                    self.wfile.write(b"x" * 65536)
                    time.sleep(0.01)
            return
        if self.path == "/slow":
            time.sleep(rx.slow_s)
        with rx.lock:
            rx.received.append(json.loads(body))
        self._answer(204, "")

    def _answer(self, status: int, text: str, location: str | None = None) -> None:
        raw = text.encode()
        self.send_response(status)
        if location:
            self.send_header("Location", location)
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


@contextmanager
def webhook_receiver(secret: str, slow_s: float = 2.0, tls: ssl.SSLContext | None = None):
    """A receiver on loopback; with `tls`, it speaks HTTPS with that server context."""
    rx = WebhookReceiver(secret, slow_s=slow_s)
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("RxHandler", (ReceiverHandler,), {"rx": rx}))
    server.daemon_threads = True
    if tls is not None:
        server.socket = tls.wrap_socket(server.socket, server_side=True)
    rx.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield rx
    finally:
        server.shutdown()
        server.server_close()
