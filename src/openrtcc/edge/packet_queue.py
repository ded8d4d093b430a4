"""A subscriber's bounded queue of a camera's packets (the capture's PacketSubscription).

Delivery always starts at a keyframe: a new subscriber's, and after every gap. A gap is a reconnection of
the camera or a consumer too slow for its queue: then the oldest packets are dropped up to the next
queued keyframe (or all of them, and the queue waits for the next keyframe), and the first packet
delivered after it carries gap_before=True. So a consumer never sees a GOP without its keyframe, and never
slows the capture or the other consumers.
"""

from __future__ import annotations

import threading
from collections import deque
from collections.abc import Callable
from dataclasses import replace

from openrtcc.edge.packets import EncodedPacket, StreamInfo


class PacketQueue:
    def __init__(self, max_queue: int, info: StreamInfo | None,
                 on_close: Callable[[PacketQueue], None] | None = None):
        self.max_queue = max(2, max_queue)
        # The stream of the packet last returned by get() (until the first one: the capture's current
        # stream, None before its first connection). Read it after get(): a reconnection may change it.
        self.info = info
        self.dropped = 0
        self._queue: deque[tuple[EncodedPacket, StreamInfo]] = deque()
        self._cond = threading.Condition(threading.Lock())
        self._waiting_key = True
        self._closed = False
        self._waiting = 0  # consumers blocked in get(): only then does put() pay for a notify
        self._on_close = on_close

    def put(self, item: EncodedPacket, info: StreamInfo) -> None:
        """The capture thread's side: never blocks beyond the queue's lock."""
        if item.gap_before:
            self._waiting_key = True
        with self._cond:
            if self._closed:
                return
            if len(self._queue) >= self.max_queue:
                self._drop_to_keyframe()
            if self._waiting_key:
                if not item.keyframe:
                    self.dropped += 1
                    return
                self._waiting_key = False
                if not item.gap_before:
                    item = replace(item, gap_before=True)
            self._queue.append((item, info))
            if self._waiting:
                self._cond.notify()

    def _drop_to_keyframe(self) -> None:
        """Make room: the oldest packets go, up to the next queued keyframe, which is marked as after a gap
        (or all of them, and the queue waits for the camera's next keyframe)."""
        queue = self._queue
        queue.popleft()
        self.dropped += 1
        while queue and not queue[0][0].keyframe:
            queue.popleft()
            self.dropped += 1
        if queue:
            head, info = queue[0]
            if not head.gap_before:
                queue[0] = (replace(head, gap_before=True), info)
        else:
            self._waiting_key = True

    def _wait(self, timeout: float | None) -> None:
        if not self._queue and not self._closed and timeout != 0:
            self._waiting += 1
            try:
                self._cond.wait(timeout)
            finally:
                self._waiting -= 1

    def get(self, timeout: float | None = None) -> EncodedPacket | None:
        with self._cond:
            self._wait(timeout)
            if not self._queue:
                return None
            item, info = self._queue.popleft()
        self.info = info
        return item

    def get_all(self, timeout: float | None = None) -> list[EncodedPacket]:
        """The queued packets at once (waiting up to timeout for the first): one lock and one wake-up for
        a batch, for consumers that keep up with many cameras. A batch ends before a reconnection's first
        packet, so `info` holds for the whole batch."""
        with self._cond:
            self._wait(timeout)
            queue = self._queue
            if not queue:
                return []
            entries = [queue.popleft()]
            stream = entries[0][1]
            while queue and queue[0][1] is stream and not queue[0][0].gap_before:
                entries.append(queue.popleft())
        self.info = stream
        return [e[0] for e in entries]

    def __len__(self) -> int:
        return len(self._queue)

    @property
    def closed(self) -> bool:
        return self._closed

    def close(self) -> None:
        with self._cond:
            self._closed = True
            self._queue.clear()
            self._cond.notify_all()
        if self._on_close is not None:
            self._on_close(self)


class PacketFanout:
    """A camera's subscribers: each gets its own PacketQueue. Publishing reads an immutable tuple, so the
    camera's thread never waits on a subscribe or an unsubscribe."""

    def __init__(self) -> None:
        self._subs: tuple[PacketQueue, ...] = ()
        self._lock = threading.Lock()

    def subscribe(self, max_queue: int, info: StreamInfo | None) -> PacketQueue:
        sub = PacketQueue(max_queue, info, self._unsubscribe)
        with self._lock:
            self._subs = (*self._subs, sub)
        return sub

    def _unsubscribe(self, sub: PacketQueue) -> None:
        with self._lock:
            self._subs = tuple(s for s in self._subs if s is not sub)

    def publish(self, item: EncodedPacket, info: StreamInfo) -> None:
        for sub in self._subs:
            sub.put(item, info)

    def close_all(self) -> None:
        for sub in self._subs:
            sub.close()
