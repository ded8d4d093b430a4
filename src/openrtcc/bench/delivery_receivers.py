"""The dissemination benchmark's receiving end, in a process of its own: the servers the hub delivers to.

An SMTP server (aiosmtpd); one HTTP server for signed webhooks (each signature checked with the subscriber's
secret, as a receiver must) and for ntfy push (what apprise's `ntfy://` plugin posts); a Twilio-speaking HTTPS
server reached through an HTTP CONNECT proxy, as apprise's Twilio plugin reaches api.twilio.com when the hub's
HTTPS_PROXY names the proxy; an MQTT subscriber on the benchmark's Mosquitto; and the WebSocket screens of
`/ws/notices` subscribers. Each records when it got each delivery on the wall clock, which the hub's clock
also reads (one machine). Runs in a spawned child so that its work is not charged to the hub's interpreter.
"""

from __future__ import annotations

import asyncio
import json
import logging
import socket
import tempfile
import time
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta
from pathlib import Path
from urllib.parse import parse_qs

log = logging.getLogger(__name__)

TWILIO_HOST = "api.twilio.com"
# What the receivers record per delivery: (channel, key, wall-clock seconds, delivery id or None). The key
# names the subscriber: its email address, phone number, push topic, MQTT topic, webhook path or id.
Receipt = tuple[str, str, float, int | None]


@dataclass(frozen=True, slots=True)
class ReceiverPorts:
    smtp: int
    http: int
    connect_proxy: int

    @classmethod
    def free(cls) -> ReceiverPorts:
        """Ports picked by the parent, so that the hub can be built while the receivers start."""
        socks = [socket.socket() for _ in range(3)]
        try:
            for s in socks:
                s.bind(("127.0.0.1", 0))
            return cls(*(s.getsockname()[1] for s in socks))
        finally:
            for s in socks:
                s.close()


@dataclass(frozen=True, slots=True)
class StartOrder:
    """Sent once the hub serves: the webhook secrets by path key and the WebSocket subscribers to connect."""

    base_url: str
    webhook_secrets: dict[str, str]
    sockets: list[tuple[str, str]]  # (subscriber id, access token)


@dataclass(slots=True)
class ReceiverResult:
    receipts: list[Receipt] = field(default_factory=list)
    bad_signatures: int = 0
    sockets_connected: int = 0
    cpu_s: float = 0.0


def _loopback_socket(port: int = 0) -> socket.socket:
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("127.0.0.1", port))
    s.listen(512)
    s.setblocking(False)
    return s


def _self_signed(folder: Path, host: str) -> tuple[Path, Path]:
    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, host)])
    now = datetime.now(UTC)
    cert = (x509.CertificateBuilder().subject_name(name).issuer_name(name).public_key(key.public_key())
            .serial_number(x509.random_serial_number()).not_valid_before(now - timedelta(days=1))
            .not_valid_after(now + timedelta(days=2))
            .add_extension(x509.SubjectAlternativeName([x509.DNSName(host)]), critical=False)
            .sign(key, hashes.SHA256()))
    cert_path, key_path = folder / "cert.pem", folder / "key.pem"
    cert_path.write_bytes(cert.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                           serialization.NoEncryption()))
    return cert_path, key_path


class Receivers:
    """Everything runs on one asyncio loop, except paho's network thread."""

    def __init__(self, mqtt_port: int):
        self.mqtt_port = mqtt_port
        self.result = ReceiverResult()
        self.secrets: dict[str, str] = {}
        self._servers: list = []
        self._tasks: list[asyncio.Task] = []

    def record(self, channel: str, key: str, delivery_id: int | None = None) -> None:
        self.result.receipts.append((channel, key, time.time(), delivery_id))

    # ------------------------------------------------------------ SMTP

    async def _start_smtp(self, port: int) -> int:
        from aiosmtpd.smtp import SMTP

        receivers = self

        class Handler:
            async def handle_DATA(self, server, session, envelope):
                for rcpt in envelope.rcpt_tos:
                    receivers.record("email", rcpt.lower())
                return "250 OK"

        logging.getLogger("mail.log").setLevel(logging.ERROR)
        handler = Handler()
        sock = _loopback_socket(port)
        server = await asyncio.get_running_loop().create_server(
            lambda: SMTP(handler, hostname="bench-smtp", ident="bench"), sock=sock)
        self._servers.append(server)
        return sock.getsockname()[1]

    # ------------------------------------------------------------ HTTP: webhooks, ntfy, Twilio

    async def _app(self, scope, receive, send) -> None:
        if scope["type"] != "http":
            return
        body = b""
        more = True
        while more:
            message = await receive()
            body += message.get("body", b"")
            more = message.get("more_body", False)
        status, answer = self._handle(scope, body)
        await send({"type": "http.response.start", "status": status,
                    "headers": [(b"content-type", b"application/json")]})
        await send({"type": "http.response.body", "body": answer})

    def _handle(self, scope, body: bytes) -> tuple[int, bytes]:
        path = scope["path"]
        if path.startswith("/hooks/"):
            return self._webhook(path.removeprefix("/hooks/"), dict(scope["headers"]), body)
        if path.endswith("/Messages.json"):  # Twilio's Messages API
            to = parse_qs(body.decode()).get("To", [""])[0]
            self.record("sms", to)
            return 201, json.dumps({"sid": f"SM{time.time_ns():032x}"[:34], "status": "queued"}).encode()
        if path == "/":  # ntfy: {"topic", "title", "message"}
            self.record("push", json.loads(body).get("topic", ""))
            return 200, b'{"id":"bench"}'
        return 404, b"{}"

    def _webhook(self, key: str, headers: dict, body: bytes) -> tuple[int, bytes]:
        from openrtcc.domain.errors import Forbidden
        from openrtcc.domain.webhook_signing import verify

        arrived = time.time()
        delivery = headers.get(b"x-rtcc-delivery", b"").decode()
        delivery_id = int(delivery.removeprefix("rtcc-")) if delivery.removeprefix("rtcc-").isdigit() else None
        try:
            verify(self.secrets[key], {k.decode(): v.decode() for k, v in headers.items()}, body,
                   datetime.now(UTC))
        except (Forbidden, KeyError):
            self.result.bad_signatures += 1
            return 401, b'{"error":"bad signature"}'
        self.result.receipts.append(("webhook", key, arrived, delivery_id))
        return 204, b""

    async def _start_http(self, tls: tuple[Path, Path] | None, port: int = 0) -> int:
        import uvicorn

        sock = _loopback_socket(port)
        options = dict(ssl_certfile=str(tls[0]), ssl_keyfile=str(tls[1])) if tls else {}
        config = uvicorn.Config(self._app, log_level="error", access_log=False, lifespan="off",
                                interface="asgi3", backlog=512, **options)
        server = uvicorn.Server(config)
        server.install_signal_handlers = lambda: None  # older uvicorn: the parent ends this process
        self._tasks.append(asyncio.create_task(server.serve(sockets=[sock])))
        self._servers.append(server)
        while not server.started:
            await asyncio.sleep(0.01)
        return sock.getsockname()[1]

    async def _start_connect_proxy(self, twilio_port: int, port: int) -> int:
        async def pipe(reader, writer):
            try:
                while data := await reader.read(65536):
                    writer.write(data)
                    await writer.drain()
            except (ConnectionError, asyncio.CancelledError):
                pass
            finally:
                writer.close()

        async def handle(reader, writer):
            head = await reader.readuntil(b"\r\n\r\n")
            target = head.split(b" ", 2)[1].decode()
            if not head.startswith(b"CONNECT ") or target.split(":")[0] != TWILIO_HOST:
                writer.write(b"HTTP/1.1 403 Forbidden\r\n\r\n")
                writer.close()
                return
            up_reader, up_writer = await asyncio.open_connection("127.0.0.1", twilio_port)
            writer.write(b"HTTP/1.1 200 Connection established\r\n\r\n")
            await asyncio.gather(pipe(reader, up_writer), pipe(up_reader, writer))

        sock = _loopback_socket(port)
        server = await asyncio.start_server(handle, sock=sock)
        self._servers.append(server)
        return sock.getsockname()[1]

    # ------------------------------------------------------------ MQTT and WebSocket subscribers

    def _start_mqtt(self) -> asyncio.Future:
        import paho.mqtt.client as mqtt
        from paho.mqtt.enums import CallbackAPIVersion

        client = mqtt.Client(CallbackAPIVersion.VERSION2, client_id="bench-receiver")
        subscribed = asyncio.get_running_loop().create_future()
        loop = asyncio.get_running_loop()
        client.on_message = lambda _c, _u, msg: self.record("mqtt", msg.topic)
        client.on_connect = lambda c, *_: c.subscribe("#", qos=1)
        client.on_subscribe = lambda *_: loop.call_soon_threadsafe(
            lambda: subscribed.done() or subscribed.set_result(True))
        client.connect("127.0.0.1", self.mqtt_port)
        client.loop_start()
        self._mqtt = client
        return subscribed

    async def _screen(self, url: str, subscriber_id: str, token: str, connected: asyncio.Event) -> None:
        from websockets.asyncio.client import connect

        try:
            async with connect(url, additional_headers={"Authorization": f"Bearer {token}"},
                               max_size=2 ** 20, ping_interval=None) as ws:
                self.result.sockets_connected += 1
                connected.set()
                async for message in ws:
                    doc = json.loads(message)
                    if doc.get("type") != "heartbeat":
                        self.record("websocket", subscriber_id)
        except Exception as exc:  # a refused or dropped screen shows up as missing deliveries
            log.warning("notice socket for %s: %s", subscriber_id, exc)
            connected.set()

    async def connect_screens(self, order: StartOrder) -> None:
        ws_base = order.base_url.replace("http://", "ws://")
        waits = []
        for subscriber_id, token in order.sockets:
            ev = asyncio.Event()
            waits.append(ev.wait())
            self._tasks.append(asyncio.create_task(
                self._screen(f"{ws_base}/ws/notices?subscriber={subscriber_id}", subscriber_id, token, ev)))
        await asyncio.wait_for(asyncio.gather(*waits), timeout=30)

    # ------------------------------------------------------------ life

    async def start(self, folder: Path, ports: ReceiverPorts) -> None:
        await self._start_smtp(ports.smtp)
        await self._start_http(None, ports.http)
        twilio = await self._start_http(_self_signed(folder, TWILIO_HOST))
        await self._start_connect_proxy(twilio, ports.connect_proxy)
        await asyncio.wait_for(self._start_mqtt(), timeout=10)

    async def stop(self) -> None:
        self._mqtt.loop_stop()
        self._mqtt.disconnect()
        for server in self._servers:
            if hasattr(server, "should_exit"):
                server.should_exit = True
            else:
                server.close()
        for task in self._tasks:
            task.cancel()
        await asyncio.gather(*self._tasks, return_exceptions=True)


def serve_receivers(conn, mqtt_port: int, ports: ReceiverPorts) -> None:
    """The child's entry point: start on `ports`, say "ready"; take a StartOrder; on "stop" send the results."""
    asyncio.run(_serve(conn, mqtt_port, ports))


async def _serve(conn, mqtt_port: int, ports: ReceiverPorts) -> None:
    loop = asyncio.get_running_loop()
    receivers = Receivers(mqtt_port)
    cpu_began = time.process_time()
    with tempfile.TemporaryDirectory(prefix="rtcc-bench-receivers-") as tmp:
        await receivers.start(Path(tmp), ports)
        conn.send("ready")
        order: StartOrder = await loop.run_in_executor(None, conn.recv)
        receivers.secrets = order.webhook_secrets
        await receivers.connect_screens(order)
        conn.send(receivers.result.sockets_connected)
        await loop.run_in_executor(None, conn.recv)  # "stop"
        await receivers.stop()
    receivers.result.cpu_s = time.process_time() - cpu_began
    conn.send(receivers.result)
