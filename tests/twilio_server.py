"""Twilio, locally: a TLS server speaking Twilio's Messages REST API, reached through a local CONNECT proxy.

apprise's twilio plugin always posts to https://api.twilio.com/2010-04-01/Accounts/<SID>/Messages.json with
`requests`. Requests honours HTTPS_PROXY (the proxy below maps api.twilio.com:443 to the local server and
refuses every other host) and REQUESTS_CA_BUNDLE (a CA made here signed the server's api.twilio.com
certificate), so the plugin runs unchanged with full certificate checks. `twilio_env(monkeypatch, rig)` sets
that environment for the test process only."""

from __future__ import annotations

import base64
import json
import select
import socket
import socketserver
import ssl
import threading
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from urllib.parse import parse_qs

from tests.tls_certificates import make_tls_files


TWILIO_HOST = "api.twilio.com"
SID = "AC" + "0123456789abcdef" * 2
TOKEN = "f" * 32
FROM = "+15550001111"
INVALID_TO = "+15559990000"  # the server answers 21211 (invalid To number) for this one


@dataclass
class TwilioRig:
    port: int  # the TLS server
    proxy_port: int
    ca_file: Path
    messages: list[dict] = field(default_factory=list)  # accepted: {"From", "To", "Body"}
    refused: list[dict] = field(default_factory=list)
    tunnels: list[str] = field(default_factory=list)  # "host:port" of every CONNECT the proxy got


class TwilioHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rig: TwilioRig

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        body = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.path != f"/2010-04-01/Accounts/{SID}/Messages.json":
            return self._answer(404, {"code": 20404, "message": "The requested resource was not found"})
        expected = "Basic " + base64.b64encode(f"{SID}:{TOKEN}".encode()).decode()
        if self.headers.get("Authorization") != expected:
            return self._answer(401, {"code": 20003, "message": "Authenticate"})
        form = {k: v[0] for k, v in parse_qs(body.decode()).items()}
        if form.get("To") == INVALID_TO or not form.get("Body"):
            self.rig.refused.append(form)
            return self._answer(400, {"code": 21211, "message": f"The 'To' number {form.get('To')} is not a "
                                      "valid phone number.", "status": 400})
        self.rig.messages.append(form)
        self._answer(201, {"sid": f"SM{len(self.rig.messages):032x}", "status": "queued", "to": form["To"],
                           "from": form.get("From"), "body": form["Body"], "account_sid": SID})

    def _answer(self, status: int, doc: dict) -> None:
        raw = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        self.end_headers()
        self.wfile.write(raw)


class ConnectProxy(socketserver.ThreadingTCPServer):
    """An HTTP CONNECT proxy that tunnels api.twilio.com:443 to the local server and refuses anything else."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, rig: TwilioRig):
        self.rig = rig
        super().__init__(("127.0.0.1", 0), ProxyHandler)


class ProxyHandler(socketserver.BaseRequestHandler):
    def handle(self) -> None:
        head = b""
        while b"\r\n\r\n" not in head and len(head) < 8192:
            chunk = self.request.recv(1024)
            if not chunk:
                return
            head += chunk
        line = head.split(b"\r\n", 1)[0].decode(errors="replace").split()
        rig: TwilioRig = self.server.rig
        if len(line) < 2 or line[0] != "CONNECT":
            self.request.sendall(b"HTTP/1.1 405 Method Not Allowed\r\nContent-Length: 0\r\n\r\n")
            return
        rig.tunnels.append(line[1])
        if line[1] != f"{TWILIO_HOST}:443":
            self.request.sendall(b"HTTP/1.1 403 Forbidden\r\nContent-Length: 0\r\n\r\n")
            return
        with socket.create_connection(("127.0.0.1", rig.port)) as upstream:
            self.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
            _relay(self.request, upstream)


def _relay(a: socket.socket, b: socket.socket) -> None:
    peers = {a: b, b: a}
    while True:
        readable, _, _ = select.select(list(peers), [], [], 10)
        if not readable:
            return
        for sock in readable:
            data = sock.recv(65536)
            if not data:
                return
            peers[sock].sendall(data)


@contextmanager
def twilio_rig(folder: Path):
    ca, cert, key = make_tls_files(folder, TWILIO_HOST)
    rig = TwilioRig(0, 0, ca)
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("RigTwilioHandler", (TwilioHandler,), {"rig": rig}))
    server.daemon_threads = True
    ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    ctx.load_cert_chain(cert, key)
    server.socket = ctx.wrap_socket(server.socket, server_side=True)
    rig.port = server.server_address[1]
    proxy = ConnectProxy(rig)
    rig.proxy_port = proxy.server_address[1]
    threads = [threading.Thread(target=s.serve_forever, args=(0.05,), daemon=True) for s in (server, proxy)]
    for t in threads:
        t.start()
    try:
        yield rig
    finally:
        for s in (server, proxy):
            s.shutdown()
            s.server_close()


def twilio_env(monkeypatch, rig: TwilioRig) -> None:
    """Route this process's HTTPS to api.twilio.com through the rig, trusting only the rig's CA."""
    monkeypatch.setenv("HTTPS_PROXY", f"http://127.0.0.1:{rig.proxy_port}")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", str(rig.ca_file))
    for name in ("https_proxy", "no_proxy", "CURL_CA_BUNDLE", "ALL_PROXY", "all_proxy"):
        monkeypatch.delenv(name, raising=False)


def twilio_url_template() -> str:
    """The sms_apprise_url a deployment would configure for this account."""
    return f"twilio://{SID}:{TOKEN}@{FROM}/{{to}}"
