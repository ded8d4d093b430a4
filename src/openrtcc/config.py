"""Typed settings, read from RTCC_* environment variables; unknown or unsafe values are refused."""

from __future__ import annotations

from pathlib import Path
from typing import Literal

from pydantic import Field, field_validator
from pydantic_settings import BaseSettings, SettingsConfigDict

DEFAULT_BANNER = (
    "You are accessing a law-enforcement information system. Use is limited to authorised purposes; "
    "every action is recorded and may be reviewed. Unauthorised or improper use may result in "
    "disciplinary action and civil and criminal penalties. By logging on you acknowledge these terms."
)


class Settings(BaseSettings):
    model_config = SettingsConfigDict(env_prefix="RTCC_", extra="forbid")

    data_dir: Path = Field(Path("rtcc-data"), description="Folder holding the embedded database and media files.")
    database_url: str | None = Field(
        None,
        description="SQLAlchemy URL. Unset: SQLite in data_dir. postgresql+psycopg://... for PostgreSQL/PostGIS.",
    )
    deployment_name: str = Field("OpenRTCC", description="Shown in page titles and emails.")
    base_url: str = Field("http://127.0.0.1:8000", description="Public URL of the hub, used in email links.")
    tile_url: str = Field(
        "https://tile.openstreetmap.org/{z}/{x}/{y}.png",
        description="Map tile URL template; empty for no base map (offline).",
    )
    tile_attribution: str = Field("&copy; OpenStreetMap contributors", description="Attribution for the tiles.")
    use_banner: str = Field(DEFAULT_BANNER, description="System use notification shown before log-on.")
    utc_offset_minutes: int = Field(0, ge=-14 * 60, le=14 * 60, description="Local time offset for schedules.")
    max_json_bytes: int = Field(256 * 1024, ge=1024, description="Largest JSON request body accepted.")
    max_upload_bytes: int = Field(512 * 1024 * 1024, ge=1024, description="Largest evidence upload accepted.")
    max_ingest_bytes: int = Field(32 * 1024 * 1024, ge=1024,
                                  description="Largest plate-read batch accepted (JSON with base64 crops).")
    smtp_host: str | None = Field(None, description="SMTP relay for owner notifications; unset: email is off.")
    smtp_port: int = Field(25, ge=1, le=65535)
    smtp_from: str = Field("no-reply@openrtcc.invalid", description="Sender address of notification emails.")
    smtp_starttls: bool = Field(False, description="Use STARTTLS with the relay.")
    smtp_username: str | None = None
    smtp_password: str | None = Field(None, repr=False)
    outbox_interval_s: float = Field(5.0, ge=0, description="Seconds between outbox deliveries; 0 turns it off.")
    secure_cookies: bool = Field(False, description="Mark the session cookie Secure (set behind TLS).")
    alpr_model_dir: Path | None = Field(
        None, description="Folder holding the plate-reader models; unset: RTCC_MODEL_DIR, then the cache.")
    model_cache_dir: Path | None = Field(
        None, description="Where downloaded models are kept; unset: $XDG_CACHE_HOME/openrtcc/models.")
    alpr_detector: str = Field(
        "yolo-v9-t-384-license-plate-end2end", description="Official plate detector to download when none is found.")
    alpr_detector_sha256: str | None = Field(
        None, pattern=r"^[0-9a-fA-F]{64}$",
        description="Expected SHA-256 of the detector download, for a detector whose hash is not pinned.")
    model_mirror_url: str | None = Field(
        None, pattern=r"^https?://", description="Download models from this URL prefix instead of the publishers'.")
    onnx_threads: int = Field(0, ge=0, le=256, description="onnxruntime threads per model session; 0: one per core.")
    alpr_use_gpu: bool = Field(True, description="Use a GPU execution provider when onnxruntime offers one.")
    hotlist_matcher: Literal["packed", "pure"] = Field(
        "packed", description="Hot-list index: packed (numpy, matches a batch of reads per call) or pure (the "
        "plain-Python definition it is tested against); both give the same hits.")

    # --- command center and dissemination (issue 5) ---
    secret_key: str | None = Field(
        None, min_length=32, repr=False,
        description="Signs public links (sign-up confirmation, one-click unsubscribe). Unset: a random key kept "
        "in data_dir/hub-secret.key (0600). Set the same value on every hub process of one deployment.")
    dissemination_interval_s: float = Field(
        1.0, ge=0, description="Seconds between retry rounds of failed deliveries; 0 turns dissemination off.")
    delivery_max_attempts: int = Field(8, ge=1, le=50, description="Attempts before a delivery is dead-lettered.")
    channel_per_second: dict[Literal["email", "sms", "push", "webhook", "mqtt", "websocket"], int] = Field(
        default_factory=dict, description="At most this many messages a second on a channel (a relay's or a "
        "provider's own limit, e.g. {\"sms\": 1} for one Twilio long code); the rest wait for the next second. "
        "A channel not named has no limit.")
    sms_apprise_url: str | None = Field(
        None, repr=False, description="apprise URL template for SMS with {to} for the E.164 number, e.g. "
        "twilio://SID:TOKEN@+15551234567/{to}; unset: SMS is off.")
    push_apprise_url: str | None = Field(
        None, repr=False, description="apprise URL template for push with {to} for the subscriber's topic, e.g. "
        "ntfys://ntfy.example.org/{to}; unset: push is off.")
    outbound_allow_private: bool = Field(
        False, description="Let webhook and MQTT subscriptions point at loopback or private addresses (tests, a "
        "closed network). Off: such addresses are refused, so a subscription cannot reach inside the hub's network.")
    mqtt_connect_timeout_s: float = Field(5.0, gt=0, le=60, description="MQTT broker connect timeout.")
    webhook_timeout_s: float = Field(5.0, gt=0, le=60, description="Outbound webhook request timeout.")
    public_signup: bool = Field(True, description="Offer the public alert sign-up and tip pages.")
    tip_max_bytes: int = Field(25 * 1024 * 1024, ge=1024, description="Largest photo or clip attached to a tip.")
    tips_per_hour: int = Field(5, ge=1, le=1000, description="Tips one client may send per hour.")
    signups_per_hour: int = Field(5, ge=1, le=1000, description="Sign-ups one client may start per hour.")
    metrics_token: str | None = Field(
        None, min_length=16, repr=False,
        description="Bearer token Prometheus presents to /metrics; unset: /metrics answers loopback clients only.")

    # --- governance: retention, encryption at rest, audit anchoring, evidence (issue 6) ---
    retention_interval_s: float = Field(
        3600.0, ge=0, description="Seconds between retention purges in a serving hub; 0 turns the schedule off "
        "(run `rtcc retention run` from cron instead).")
    retention_max_clock_jump_hours: float = Field(
        36.0, gt=0, le=24 * 30, description="The purge refuses to run when the clock moved backwards, or forwards "
        "by more than this since the last purge, until an operator confirms with `rtcc retention run "
        "--accept-clock-jump`.")
    media_encryption: bool = Field(
        True, description="Store clips, snapshots, plate crops and tip media under AES-256-GCM envelope "
        "encryption with each agency's key.")
    media_key_dir: Path | None = Field(
        None, description="Folder holding each agency's media key files (agency-held keys; `rtcc keys`). Unset: "
        "data_dir/media-keys (0700).")
    signing_key_file: Path | None = Field(
        None, description="The hub's Ed25519 signing key (audit anchors, evidence packages). Unset: "
        "data_dir/hub-signing.key (0600), made on first use.")
    anchor_dir: Path | None = Field(
        None, description="Folder the daily signed audit anchors are written to, for publication. Unset: "
        "data_dir/anchors.")
    anchor_interval_s: float = Field(
        86400.0, ge=0, description="Seconds between audit anchors in a serving hub; 0 turns the schedule off.")
    erasure_dir: Path | None = Field(
        None, description="Folder of the erasure journal (what the hub deleted or revoked, replayed by `rtcc backup "
        "restore` so a restore never brings deleted data back). Keep it out of backups; several hub machines need a "
        "shared filesystem here. Unset: data_dir/erasures.")

    # --- city scale: NATS JetStream, role processes, media store, operations (issue 7) ---
    nats_url: str | None = Field(
        None, pattern=r"^(nats|tls)://", description="NATS server with JetStream (nats://host:4222, several "
        "comma-separated for a cluster). Unset: the embedded default (in-process bus, reads stored by the serving "
        "process). Set: `rtcc serve` takes reads into JetStream and `rtcc worker` stores and matches them; events "
        "fan out to every hub process through NATS.")
    database_pool_size: int = Field(10, ge=1, le=200, description="PostgreSQL connections a hub process keeps "
                                    "open; with database_max_overflow, keep the sum over all processes under the "
                                    "server's max_connections.")
    database_max_overflow: int = Field(20, ge=0, le=400, description="Extra PostgreSQL connections a process may "
                                       "open at peaks.")
    nats_namespace: str = Field(
        "rtcc", pattern=r"^[a-z][a-z0-9_]{0,31}$", description="Prefix of this deployment's NATS subjects and "
        "JetStream streams (streams are named in upper case): deployments sharing one NATS cluster, say a city's "
        "production and its training hub, each take their own.")
    nats_connect_timeout_s: float = Field(5.0, gt=0, le=120, description="Seconds to wait for NATS at start.")
    nats_replicas: int = Field(1, ge=1, le=5, description="JetStream replicas of the hub's streams (3 on a "
                               "three-node NATS cluster).")
    media_store: Literal["file", "s3"] = Field(
        "file", description="Where media lives: file (media_dir, a local or shared filesystem) or s3 (an "
        "S3-compatible object store: AWS S3, MinIO, Ceph RGW).")
    media_root: Path | None = Field(
        None, description="Folder of the file media store; unset: data_dir/media. Several hub processes on "
        "several machines need a shared filesystem here, or the s3 store.")
    s3_endpoint_url: str | None = Field(None, pattern=r"^https?://",
                                        description="S3 endpoint; unset: AWS's own for s3_region.")
    s3_bucket: str | None = Field(None, min_length=3, max_length=63, description="Bucket of the s3 media store.")
    s3_prefix: str = Field("", max_length=200, description="Key prefix inside the bucket (e.g. lakeport/).")
    s3_region: str = Field("us-east-1", description="S3 region.")
    s3_access_key_id: str | None = Field(None, repr=False)
    s3_secret_access_key: str | None = Field(None, repr=False)
    log_format: Literal["text", "json"] = Field(
        "text", description="text for people at a terminal; json for one structured record a line (a log "
        "shipper). Neither ever carries a plate, an address, a key or a token.")
    log_level: Literal["DEBUG", "INFO", "WARNING", "ERROR"] = Field("INFO", description="Least level logged.")
    process_name: str | None = Field(
        None, max_length=64, pattern=r"^[A-Za-z0-9_.:-]+$",
        description="Name of this process in logs, metrics and health answers; unset: role@host:pid.")
    shutdown_drain_s: float = Field(
        0.0, ge=0, le=300, description="On SIGTERM, seconds a serve or worker process keeps serving while /readyz "
        "answers 503 `draining`, before it stops taking connections and finishes the requests in flight. Behind a "
        "load balancer set it above the health check's interval times its failure threshold.")

    @field_validator("database_url")
    @classmethod
    def _known_backend(cls, v: str | None) -> str | None:
        if v and not (v.startswith("sqlite") or v.startswith("postgresql")):
            raise ValueError("RTCC_DATABASE_URL must be a sqlite:// or postgresql+psycopg:// URL")
        return v

    @property
    def resolved_database_url(self) -> str:
        return self.database_url or f"sqlite:///{(self.data_dir / 'rtcc.db').resolve()}"

    @property
    def media_dir(self) -> Path:
        return self.media_root or self.data_dir / "media"

    @property
    def erasure_journal_dir(self) -> Path:
        return self.erasure_dir or self.data_dir / "erasures"

    @property
    def city_mode(self) -> bool:
        """Several hub processes on PostgreSQL and NATS JetStream, rather than the embedded default."""
        return self.nats_url is not None
