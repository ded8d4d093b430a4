"""Ports the domain needs from the outside world; adapters implement them."""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from datetime import datetime
from typing import BinaryIO, Protocol

from openrtcc.domain.audit import AuditEntry, AuditRecord
from openrtcc.domain.cameras import Camera
from openrtcc.domain.dissemination import OutboundMessage, SendOutcome
from openrtcc.domain.geo import Area, Point
from openrtcc.domain.hotlists import HotListEntry
from openrtcc.domain.map_columns import MapColumns
from openrtcc.domain.matching import Hit
from openrtcc.domain.plates import PlateReading


class CameraRepo(Protocol):
    """Every agency-side query takes the caller's agency: there is no unscoped lookup."""

    def add(self, camera: Camera) -> Camera: ...
    def update(self, camera: Camera) -> None: ...
    def get_for_owner(self, owner_id: str, camera_id: str) -> Camera | None: ...
    def list_for_owner(self, owner_id: str) -> list[Camera]: ...
    def near_owner(self, owner_id: str, center: Point, radius_m: float) -> list[Camera]: ...
    def get_for_agency(self, agency_id: str, camera_id: str) -> Camera | None: ...
    def within_radius(self, agency_id: str, center: Point, radius_m: float, limit: int) -> list[Camera]: ...
    def within_area(self, agency_id: str, area: Area, limit: int) -> list[Camera]: ...
    def map_points(self, agency_id: str) -> list[tuple]: ...
    def map_columns(self, agency_id: str) -> MapColumns: ...


class AuditLog(Protocol):
    def append(self, entry: AuditEntry) -> AuditRecord: ...
    def iter_records(self, batch: int = 5000) -> Iterator[AuditRecord]: ...


class MediaStore(Protocol):
    def put(self, key: str, stream: BinaryIO, max_bytes: int) -> tuple[int, str]:
        """Store a stream; return (size, sha256). Raises if max_bytes is exceeded, leaving nothing."""
        ...

    def open(self, key: str) -> BinaryIO: ...
    def delete(self, key: str) -> None: ...
    def exists(self, key: str) -> bool: ...

    def iter_keys(self, prefix: str) -> Iterator[tuple[str, datetime]]:
        """Every stored key under `prefix` (e.g. `reads/`) with its last-modified time (UTC); unfinished writes
        are not listed."""
        ...

    def probe(self) -> str:
        """Readiness: `ok`, or a short reason (`bucket_missing`, `unavailable`, `not_writable`); no secrets."""
        ...


class MediaScrubber(Protocol):
    """Takes out what a public upload says about where, when and with what it was made (EXIF and GPS of a
    photo, a clip's container metadata), keeping the picture."""

    def scrub(self, data: bytes, media_type: str) -> bytes:
        """The cleaned bytes, of the same media type; raises InvalidInput for a file it cannot read."""
        ...


class PlateReader(Protocol):
    """Finds and reads plates in one image. `image` is a BGR uint8 array (height, width, 3) as OpenCV and
    PyAV give; readings come most confident first, boxes in the image's pixels. `region_hint` (`US-CA`,
    `BR`) says where plates are expected from and lets the reader prefer that region's formats."""

    def read(self, image: object, region_hint: str | None = None) -> list[PlateReading]: ...


class Mailer(Protocol):
    def send(self, to: str, subject: str, body: str) -> None: ...


class Emergencies(Protocol):
    def active(self, agency_id: str, now: datetime) -> list: ...


class PasswordHasher(Protocol):
    def hash(self, password: str) -> str: ...
    def verify(self, hashed: str, password: str) -> bool: ...


class TotpVerifier(Protocol):
    def new_secret(self) -> str: ...
    def provisioning_uri(self, secret: str, account: str, issuer: str) -> str: ...
    def matching_step(self, secret: str, code: str, now: datetime) -> int | None:
        """The time step the code belongs to (allowing one step of drift), or None."""
        ...


class EventBus(Protocol):
    """Typed events, published after the transaction that made them has committed."""

    def publish(self, event: object) -> None: ...

    def subscribe(self, event_type: type, handler: Callable[[object], None], group: str | None = None) \
            -> Callable[[], None]:
        """Call `handler` with each published event of `event_type`; returns the unsubscribe function.

        Without `group` every process's handler gets every event. With one, the processes that subscribe with
        the same group share the work: each event goes to one of them, at least once (again after a handler
        raised or its process died), so such a handler must be idempotent."""
        ...


class ReadQueue(Protocol):
    """The durable queue between the processes that take plate reads in and those that store them (city mode).
    Messages are `QueuedRead`s; the queue drops a message whose id it has seen recently."""

    def publish(self, reads: Sequence[object]) -> list[bool]:
        """Queue each read and return once the queue has made every one durable: per read, True when the
        queue already had it (a retry). Raises Unavailable when the queue does not answer (nothing is
        promised then, though some reads may be queued: a retry is dropped as a duplicate)."""
        ...


class PlateMatcher(Protocol):
    """An immutable index over the entries of several hot lists (one agency's). HotListMatcher is the
    definition; an adapter may find the same hits faster, as long as they are the same hits in the same
    order."""

    def __len__(self) -> int: ...
    def entries_by_list(self) -> dict[str, list[HotListEntry]]: ...
    def match(self, plate: str, state: str | None, now: datetime | None = None) -> list[Hit]: ...

    def match_many(self, reads: Sequence[tuple[str, str | None]], now: datetime | None = None) -> list[list[Hit]]:
        """match() of each (plate, state), in order: one call for a batch of reads."""
        ...


MatcherFactory = Callable[[Mapping[str, Iterable[HotListEntry]]], PlateMatcher]


class ChannelSender(Protocol):
    """Hands rendered messages to one channel (an SMTP relay, apprise, webhook receivers, an MQTT broker,
    WebSocket clients). One call takes a batch so that a sender can reuse one connection for all of it;
    it answers one outcome per message, in any order, and never raises for a single message's failure."""

    def send(self, messages: Sequence[OutboundMessage]) -> list[SendOutcome]: ...


class Metrics(Protocol):
    """Counters and histograms for Prometheus. Label values come from small fixed sets (a channel, an
    outcome, a route template): never a plate, a person, an address or an id."""

    def count(self, name: str, amount: float = 1.0, **labels: str) -> None: ...
    def observe(self, name: str, value: float, **labels: str) -> None: ...
    def gauge(self, name: str, value: float, **labels: str) -> None: ...


class MessageSink(Protocol):
    """What a broker subscription feeds (the Frigate ingest): called from one thread only, in order."""

    topics: Sequence[str]

    def handle(self, topic: str, payload: bytes) -> None: ...
    def tick(self) -> None:
        """Called about twice a second even when nothing arrives: settles what waited long enough."""
        ...

    def link_state(self, connected: bool, error: str | None) -> None: ...


class MessageLink(Protocol):
    """A subscription to an MQTT broker that keeps itself connected (with back-off) until closed."""

    def start(self) -> None: ...
    def close(self) -> None: ...
    def is_connected(self) -> bool: ...


# (broker URL, username, password, sink) -> an unstarted link; the composition root picks the adapter.
MessageLinkFactory = Callable[[str, str | None, str | None, MessageSink], MessageLink]


class ErasureJournal(Protocol):
    """Append-only record of deletions and revocations, kept outside the database and its backups: a restore
    replays it so nothing deleted after the backup comes back (domain/erasures.py)."""

    def append(self, erasure: object) -> None:
        """Durable on return (fsynced); raises when it cannot be written, so the deletion does not commit."""
        ...

    def entries(self) -> tuple[list, int]:
        """(every readable Erasure, in file order; how many lines could not be read)."""
        ...


class LiveSegmentStore(Protocol):
    """The newest few segments of each open live session and who watched it last (services/live_segments.py
    in one process's memory; adapters/bus/jetstream_live_segments.py shared by every hub process). `get` and
    `open` return a state with meta, last_viewed_at, last_upload_at, has_init, segments (seq, duration_s),
    confirmed, viewers and last_seq (domain/live_video.LiveView or the in-memory buffer)."""

    def open(self, meta: object, now: datetime) -> object: ...
    def get(self, session_id: str) -> object | None: ...
    def put_init(self, session_id: str, data: bytes, now: datetime) -> None: ...
    def put_segment(self, session_id: str, seg: object, now: datetime) -> None:
        """Raises LiveBufferFull when the store's byte budget would be passed."""
        ...

    def init_data(self, session_id: str) -> bytes | None: ...
    def segment_data(self, session_id: str, seq: int) -> bytes | None: ...
    def viewed(self, session_id: str, now: datetime) -> None: ...
    def confirm(self, session_id: str) -> None: ...
    def add_viewer(self, session_id: str, user_id: str) -> None: ...
    def drop(self, session_id: str) -> None: ...

    def changed_since(self, session_id: str, last_seq: int | None) -> bool:
        """Cheap (no round trip): whether a newer segment arrived or the session was dropped since `last_seq`,
        as far as this process has heard; a blocking playlist reload polls it."""
        ...


class EdgeLinkRelay(Protocol):
    """Reaching the boxes whose links other hub processes hold (adapters/bus/nats_edge_links.py). The process
    holding a link announces it; any process delivers through the holder."""

    def announce(self, edge_id: str, token: str) -> None:
        """This process holds the box's link now (connection `token`): others hand over theirs. Must not block."""
        ...

    def withdraw(self, edge_id: str, token: str) -> None:
        """The link with `token` closed here. Must not block."""
        ...

    def deliver(self, edge_id: str, message_json: str) -> bool:
        """Through the process holding the link; False when none holds it."""
        ...

    def close_everywhere(self, edge_id: str) -> None: ...
    def is_connected(self, edge_id: str) -> bool: ...
    def connected_ids(self) -> list[str]: ...
