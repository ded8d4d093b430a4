"""The composition root: the one place that picks concrete adapters and wires them together."""

from __future__ import annotations

import os
from importlib.resources import files

from sqlalchemy import Engine

from openrtcc.adapters.bus.in_process import InProcessBus
from openrtcc.adapters.crypto import Argon2Passwords, PyOtpTotp
from openrtcc.adapters.db.engine import make_engine, migrate
from openrtcc.adapters.db.hotlist_repo import hotlist_snapshot
from openrtcc.adapters.db.sqlite_checkpointer import SqliteCheckpointer
from openrtcc.adapters.db.uow import SqlUnitOfWork
from openrtcc.adapters.matching.packed_index import PackedHotListIndex
from openrtcc.adapters.notify.smtp_mailer import SmtpMailer
from openrtcc.adapters.storage.erasure_journal import FileErasureJournal
from openrtcc.adapters.video.media_scrubber import OpenCvAvScrubber
from openrtcc.adapters.video.opencv_face_guard import disable_face_apis
from openrtcc.config import Settings
from openrtcc.domain.clock import Clock, IdFactory, SystemClock, UuidFactory
from openrtcc.domain.matching import HotListMatcher
from openrtcc.domain.public_forms import PublicFormLimits
from openrtcc.media_wiring import build_media_store
from openrtcc.periodic import PeriodicTask
from openrtcc.services import integrations_in
from openrtcc.services.alerts import relay_unpublished
from openrtcc.services.hotlist_index import HotListIndex
from openrtcc.services.hotlists import keep_hot_lists
from openrtcc.services.hub import Hub
from openrtcc.services.public_signup import keep_public_forms
from openrtcc.services.session_cache import SessionCache
from openrtcc.services.outbox_dispatcher import OutboxDispatcher

HOTLIST_UPKEEP_S = 30.0  # stale-feed alarms and catching up with imports made by other processes
ALERT_RELAY_S = 10.0  # alerts committed but never announced (a stop between commit and publish)
PUBLIC_FORMS_UPKEEP_S = 600.0  # old rate-limit counts deleted, unconfirmed sign-ups lapsed


def load_password_blocklist() -> frozenset[str]:
    text = files("openrtcc.resources").joinpath("common-passwords.txt").read_text()
    return frozenset(line.strip().lower() for line in text.splitlines() if line.strip() and not line.startswith("#"))


def build_hub(settings: Settings, *, clock: Clock | None = None, ids: IdFactory | None = None,
              engine: Engine | None = None, run_migrations: bool = True, fast_hashing: bool = False,
              role: str = "serve") -> Hub:
    """The hub of one process. `role` (serve | worker) names the process in city mode (RTCC_NATS_URL set), where
    the NATS link, the bus over it, the read intake and the edge links across processes are wired as well."""
    disable_face_apis()  # no facial recognition by construction: OpenCV's face APIs refuse in the hub
    settings.data_dir.mkdir(parents=True, exist_ok=True)
    url = settings.resolved_database_url
    if run_migrations:
        migrate(url)
    engine = engine or make_engine(url, pool_size=settings.database_pool_size,
                                   max_overflow=settings.database_max_overflow)
    clock = clock or SystemClock()
    ids = ids or UuidFactory()
    mailer = None
    if settings.smtp_host:
        mailer = SmtpMailer(settings.smtp_host, settings.smtp_port, settings.smtp_from,
                            starttls=settings.smtp_starttls, username=settings.smtp_username,
                            password=settings.smtp_password)
    nats_link = None
    if settings.city_mode:
        from openrtcc import city_wiring
        from openrtcc.adapters.bus.nats_bus import NatsBus

        city_wiring.check_settings(settings)
        nats_link = city_wiring.connect(settings, role)
        bus = NatsBus(nats_link, namespace=settings.nats_namespace, replicas=settings.nats_replicas)
    else:
        bus = InProcessBus()
    # One serving process may keep verified sessions (services/session_cache.py); in city mode several serve.
    sessions = None if nats_link is not None else SessionCache()
    forget = sessions.forget if sessions is not None else None
    hub = Hub(
        uow=lambda: SqlUnitOfWork(engine, clock, ids, account_changes=forget),
        clock=clock,
        ids=ids,
        passwords=Argon2Passwords(fast_for_tests=fast_hashing),
        totp=PyOtpTotp(),
        media=build_media_store(settings),
        mailer=mailer,
        password_blocklist=load_password_blocklist(),
        deployment_name=settings.deployment_name,
        base_url=settings.base_url.rstrip("/"),
        max_upload_bytes=settings.max_upload_bytes,
        utc_offset_minutes=settings.utc_offset_minutes,
        bus=bus,
        matcher_factory=PackedHotListIndex.build if settings.hotlist_matcher == "packed" else HotListMatcher.build,
    )
    hub.extras["engine"] = engine
    if sessions is not None:
        hub.extras["session_cache"] = sessions
    if nats_link is not None:
        hub.extras["city_mode"] = True
        hub.extras["nats"] = nats_link
        hub.extras["process_name"] = city_wiring.process_name(settings, role)
    # Loaded per agency on first match, swapped whole after each import.
    hub.extras["hotlists"] = HotListIndex(hub, reader=lambda: hotlist_snapshot(engine))
    # Started and stopped with the web app's lifespan: only a serving hub runs them.
    hub.extras["background"] = [SqliteCheckpointer(engine)] if engine.dialect.name == "sqlite" else []
    hub.extras["background"].append(PeriodicTask("hotlist-upkeep", HOTLIST_UPKEEP_S, lambda: keep_hot_lists(hub)))
    hub.extras["background"].append(PeriodicTask("alert-relay", ALERT_RELAY_S, lambda: relay_unpublished(hub)))
    if mailer is not None and settings.outbox_interval_s > 0:
        hub.extras["background"].append(OutboxDispatcher(hub, settings.outbox_interval_s))
    hub.secret_key = hub_secret_key(settings)
    hub.extras["public_forms"] = PublicFormLimits(
        settings.public_signup, settings.signups_per_hour, settings.tips_per_hour, settings.tip_max_bytes,
        channels=tuple(c for c, on in (("email", settings.smtp_host), ("sms", settings.sms_apprise_url),
                                       ("push", settings.push_apprise_url)) if on))
    hub.extras["media_scrubber"] = OpenCvAvScrubber()  # tip photos and clips lose their EXIF/GPS and tags
    hub.extras["background"].append(PeriodicTask("public-forms-upkeep", PUBLIC_FORMS_UPKEEP_S,
                                                 lambda: keep_public_forms(hub)))
    integrations_in.register_upkeep(hub)  # forgets webhook delivery ids once a replay would be stale anyway
    _link_edges(hub)
    from openrtcc import anchor_wiring, dissemination_wiring, integration_wiring, retention_wiring
    from openrtcc import operations_wiring, read_partition_wiring

    if nats_link is not None:
        from openrtcc import edge_link_wiring, read_intake_wiring

        read_intake_wiring.wire(hub, settings)  # reads: serve takes them into JetStream, workers store them
        edge_link_wiring.wire(hub, settings)  # a box's link is held by one serve process; the others reach it

    integration_wiring.wire(hub, settings)  # first: it installs the metrics the others count with
    dissemination_wiring.wire(hub, settings)
    read_partition_wiring.wire(hub, settings)
    retention_wiring.wire(hub, settings)
    anchor_wiring.wire(hub, settings)
    # Deletions and revocations are journalled outside the database, for `rtcc backup restore` to replay.
    hub.extras["erasure_journal"] = FileErasureJournal(settings.erasure_journal_dir)
    operations_wiring.wire(hub, settings, role)  # last: probes and process metrics over what is wired above
    return hub


def hub_secret_key(settings: Settings) -> bytes:
    """RTCC_SECRET_KEY, or a random key made once and kept beside the embedded database (0600)."""
    if settings.secret_key:
        return settings.secret_key.encode()
    path = settings.data_dir / "hub-secret.key"
    try:
        return bytes.fromhex(path.read_text().strip())
    except FileNotFoundError:
        pass
    key = os.urandom(32)
    fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as f:
        f.write(key.hex())
    return key


def _link_edges(hub: Hub) -> None:
    """The links edge boxes hold open, and the use cases that answer what the boxes send."""
    from openrtcc.services import edge_clips, edges, live_sessions
    from openrtcc.services.edge_links import EdgeLinks

    links = EdgeLinks()
    hub.extras["edge_links"] = links
    edges.register_edge_handlers(hub, links)
    live_sessions.register_edge_handlers(hub, links)
    edge_clips.register_edge_handlers(hub, links)
    hub.extras["background"].append(PeriodicTask("clip-answer-watch", edge_clips.CLIP_WATCH_EVERY_S,
                                                 lambda: edge_clips.fail_unanswered_clips(hub)))
