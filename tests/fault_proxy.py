"""A TCP proxy for tests that cuts the network between the box and the hub on demand.

`FaultProxy(target)` listens on a loopback port and forwards each connection to `target`. Faults:
  blackhole()  packets stop flowing both ways and new connections hang (a cable pulled, a router dead):
               nothing is closed, so only the peers' own timeouts notice
  drop()       every open connection is reset and new ones are refused (a NAT box restarted)
  restore()    traffic flows again; blackholed connections resume where they stopped, as TCP would
Test support, not product code.
"""

from __future__ import annotations

import select
import socket
import struct
import threading

_RESET = struct.pack("ii", 1, 0)  # SO_LINGER on, 0 s: close() sends RST


class FaultProxy:
    def __init__(self, target: tuple[str, int], host: str = "127.0.0.1"):
        self.target = target
        self._listener = socket.create_server((host, 0))
        self._flowing = threading.Event()
        self._flowing.set()
        self._refusing = False
        self._lock = threading.Lock()
        self._open: set[socket.socket] = set()
        self._closed = False
        self.connections = 0  # accepted so far
        threading.Thread(target=self._accept, name="fault-proxy", daemon=True).start()

    @property
    def address(self) -> str:
        host, port = self._listener.getsockname()[:2]
        return f"{host}:{port}"

    def blackhole(self) -> None:
        self._flowing.clear()

    def drop(self) -> None:
        self._refusing = True
        with self._lock:
            doomed, self._open = self._open, set()
        for s in doomed:
            _reset(s)

    def restore(self) -> None:
        self._refusing = False
        self._flowing.set()

    def close(self) -> None:
        self._closed = True
        self._listener.close()
        self.drop()
        self._flowing.set()

    def __enter__(self) -> FaultProxy:
        return self

    def __exit__(self, *exc) -> None:
        self.close()

    def _accept(self) -> None:
        while not self._closed:
            try:
                client, _ = self._listener.accept()
            except OSError:
                return
            if self._refusing:
                _reset(client)
                continue
            threading.Thread(target=self._connect, args=(client,), daemon=True).start()

    def _connect(self, client: socket.socket) -> None:
        self._flowing.wait()  # a blackholed network does not carry the handshake either
        try:
            upstream = socket.create_connection(self.target, timeout=5)
        except OSError:
            _reset(client)
            return
        with self._lock:
            self._open.update((client, upstream))
            self.connections += 1
        for a, b in ((client, upstream), (upstream, client)):
            threading.Thread(target=self._pump, args=(a, b), daemon=True).start()

    def _pump(self, source: socket.socket, sink: socket.socket) -> None:
        try:
            while True:
                if not self._flowing.is_set():
                    self._flowing.wait(0.1)
                    continue
                ready, _, _ = select.select([source], [], [], 0.1)
                if not ready or not self._flowing.is_set():
                    continue
                data = source.recv(65536)
                if not data:
                    break  # one side closed: close both (half-open connections are not worth modelling)
                sink.sendall(data)
        except (OSError, ValueError):  # ValueError: the other pump (or drop()) closed the socket first
            pass
        with self._lock:
            self._open.discard(source)
            self._open.discard(sink)
        for s in (source, sink):
            s.close()


def _reset(s: socket.socket) -> None:
    try:
        s.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, _RESET)
    except OSError:
        pass
    s.close()
