"""ntfy, locally: an HTTP server that takes publishes as ntfy does (JSON to `/`, or a body to `/<topic>`).

apprise's ntfy plugin (`ntfy://host:port/{topic}`) posts `{"topic", "title", "message"}` as JSON to the
server's root; a token, when the rig has one, must come as `Authorization: Bearer`."""

from __future__ import annotations

import json
import re
import threading
import time
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

TOPIC = re.compile(r"^[-_A-Za-z0-9]{1,64}$")  # ntfy's own rule for topic names


@dataclass
class NtfyRig:
    port: int = 0
    token: str | None = None
    messages: list[dict] = field(default_factory=list)  # {"topic", "title", "message"}
    refused: list[str] = field(default_factory=list)


class NtfyHandler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    rig: NtfyRig

    def log_message(self, *args) -> None:
        pass

    def do_POST(self) -> None:
        raw = self.rfile.read(int(self.headers.get("Content-Length", "0")))
        if self.rig.token and self.headers.get("Authorization") != f"Bearer {self.rig.token}":
            return self._answer(403, {"code": 40301, "http": 403, "error": "forbidden"})
        if self.path in ("/", ""):
            try:
                doc = json.loads(raw)
            except ValueError:
                return self._answer(400, {"code": 40001, "http": 400, "error": "invalid JSON"})
        else:
            doc = {"topic": self.path.strip("/"), "message": raw.decode(errors="replace"),
                   "title": self.headers.get("X-Title", "")}
        topic = str(doc.get("topic", ""))
        if not TOPIC.match(topic):
            self.rig.refused.append(topic)
            return self._answer(400, {"code": 40010, "http": 400, "error": "invalid topic"})
        self.rig.messages.append({"topic": topic, "title": doc.get("title", ""), "message": doc.get("message", "")})
        self._answer(200, {"id": f"m{len(self.rig.messages)}", "time": int(time.time()), "event": "message",
                           "topic": topic, "message": doc.get("message", "")})

    def _answer(self, status: int, doc: dict) -> None:
        body = json.dumps(doc).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)


@contextmanager
def ntfy_rig(token: str | None = None):
    rig = NtfyRig(token=token)
    server = ThreadingHTTPServer(("127.0.0.1", 0), type("RigNtfyHandler", (NtfyHandler,), {"rig": rig}))
    server.daemon_threads = True
    rig.port = server.server_address[1]
    thread = threading.Thread(target=server.serve_forever, args=(0.05,), daemon=True)
    thread.start()
    try:
        yield rig
    finally:
        server.shutdown()
        server.server_close()
