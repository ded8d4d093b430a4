"""The hub's web app served by uvicorn on loopback from a background thread, for a benchmark's duration."""

from __future__ import annotations

import socket
import threading
import time

import uvicorn


class LoopbackServer:
    """`with LoopbackServer(app) as base_url:` serves on 127.0.0.1 at a free port until the block ends."""

    def __init__(self, app, start_timeout_s: float = 20.0):
        self.app = app
        self.start_timeout_s = start_timeout_s

    def __enter__(self) -> str:
        # IPPROTO_TCP, not 0: asyncio sets TCP_NODELAY only on sockets that say they are TCP, and without it
        # Nagle's algorithm meets the client's delayed ACK and every response takes about 40 ms.
        self._socket = socket.socket(socket.AF_INET, socket.SOCK_STREAM, socket.IPPROTO_TCP)
        self._socket.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        self._socket.bind(("127.0.0.1", 0))
        port = self._socket.getsockname()[1]
        config = uvicorn.Config(self.app, log_level="warning", access_log=False, lifespan="on")
        self._server = uvicorn.Server(config)
        self._thread = threading.Thread(target=self._server.run, kwargs={"sockets": [self._socket]},
                                        name="bench-uvicorn", daemon=True)
        self._thread.start()
        deadline = time.monotonic() + self.start_timeout_s
        while not self._server.started:
            if not self._thread.is_alive() or time.monotonic() > deadline:
                raise RuntimeError("the benchmark server did not start")
            time.sleep(0.02)
        return f"http://127.0.0.1:{port}"

    def __exit__(self, *exc) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=10)
        self._socket.close()
