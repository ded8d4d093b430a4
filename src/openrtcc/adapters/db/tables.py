"""Table definitions shared by SQLite (embedded) and PostgreSQL/PostGIS (city scale)."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import (
    JSON,
    Boolean,
    Column,
    DateTime,
    Float,
    ForeignKey,
    Index,
    Integer,
    MetaData,
    String,
    Table,
    Text,
    TypeDecorator,
)
from sqlalchemy.dialects.postgresql import JSONB


class UtcDateTime(TypeDecorator):
    """Timezone-aware UTC in and out, whatever the backend stores."""

    impl = DateTime(timezone=True)
    cache_ok = True

    def process_bind_param(self, value, dialect):
        if value is None:
            return None
        if value.tzinfo is None:
            raise ValueError("naive datetime refused: use UTC-aware datetimes")
        value = value.astimezone(UTC)
        return value.replace(tzinfo=None) if dialect.name == "sqlite" else value

    def process_result_value(self, value, dialect):
        if value is None:
            return None
        if isinstance(value, str):
            value = datetime.fromisoformat(value)
        return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


JsonDoc = JSON().with_variant(JSONB(), "postgresql")

metadata = MetaData(
    naming_convention={
        "ix": "ix_%(column_0_label)s",
        "uq": "uq_%(table_name)s_%(column_0_name)s",
        "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
        "pk": "pk_%(table_name)s",
    }
)

agency = Table(
    "agency", metadata,
    Column("id", String(36), primary_key=True),
    Column("slug", String(64), nullable=False, unique=True),
    Column("name", String(200), nullable=False),
    Column("jurisdiction", JsonDoc, nullable=False),  # GeoJSON MultiPolygon, longitude first
    Column("created_at", UtcDateTime, nullable=False),
)

user = Table(
    "user_account", metadata,
    Column("id", String(36), primary_key=True),
    Column("email", String(254), nullable=False, unique=True),
    Column("display_name", String(200), nullable=False),
    Column("role", String(16), nullable=False),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=True, index=True),
    Column("password_hash", String(255), nullable=True),
    Column("totp_secret", String(64), nullable=True),
    Column("totp_enrolled", Boolean, nullable=False, default=False),
    Column("totp_last_step", Integer, nullable=True),
    Column("locked_at", UtcDateTime, nullable=True),
    Column("disabled", Boolean, nullable=False, default=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_login_at", UtcDateTime, nullable=True),
)

owner_profile = Table(
    "owner_profile", metadata,
    Column("user_id", String(36), ForeignKey("user_account.id"), primary_key=True),
    Column("kind", String(16), nullable=False),  # resident | business | hoa
    Column("organisation", String(200), nullable=True),
    Column("phone", String(32), nullable=True),
    Column("share_contact", String(16), nullable=False),  # never | on_request | always
    Column("preferred_channel", String(16), nullable=False),  # email | phone | portal
)

failed_logon = Table(
    "failed_logon", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("user_id", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_failed_logon_user_at", "user_id", "at"),
)

session = Table(
    "session", metadata,
    Column("token_hash", String(64), primary_key=True),  # sha256 of the bearer secret, never the secret
    Column("user_id", String(36), ForeignKey("user_account.id"), nullable=False, index=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("last_seen_at", UtcDateTime, nullable=False),
    Column("mfa_done", Boolean, nullable=False),
    Column("source", String(64), nullable=True),
)

camera = Table(
    "camera", metadata,
    Column("pk", Integer, primary_key=True, autoincrement=True),  # the spatial index key
    Column("id", String(36), nullable=False, unique=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("owner_id", String(36), ForeignKey("user_account.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("address", String(300), nullable=False),
    Column("bearing_deg", Float, nullable=False),
    Column("fov_deg", Float, nullable=False),
    Column("range_m", Float, nullable=False),
    Column("public_facing_attested", Boolean, nullable=False),
    Column("make", String(80), nullable=True),
    Column("model", String(80), nullable=True),
    Column("owner_retention_days", Integer, nullable=False),
    Column("tier", String(16), nullable=False),
    Column("sharing_mode", String(16), nullable=False),
    Column("share_live", Boolean, nullable=False),
    Column("share_recorded", Boolean, nullable=False),
    Column("schedule", JsonDoc, nullable=False),
    Column("status", String(16), nullable=False),
    Column("possible_duplicate_of", String(36), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("withdrawn_at", UtcDateTime, nullable=True),
    # issue 4: the owner's edge box and the rest of the owner's policy, which the box enforces
    Column("edge_id", String(36), nullable=True, index=True),
    Column("emergency_radius_m", Float, nullable=False, server_default="1000"),
    Column("privacy_masks", JsonDoc, nullable=False, server_default="[]"),  # [[[x, y], ...], ...] in 0..1
    Column("share_reads_with", JsonDoc, nullable=False, server_default="[]"),  # agency ids
    Index("ix_camera_agency_status", "agency_id", "status"),
)

camera_access = Table(
    "camera_access", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("camera_pk", Integer, ForeignKey("camera.pk"), nullable=True),  # null: the agency's whole program
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("user_id", String(36), nullable=True),
    Column("kind", String(24), nullable=False),  # location | contact | live | footage | footage_request
    Column("purpose", String(300), nullable=False),
    Column("case_number", String(64), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_camera_access_camera_at", "camera_pk", "at"),
    Index("ix_camera_access_agency_at", "agency_id", "at"),
)

footage_request = Table(
    "footage_request", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False, index=True),
    Column("created_by", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("purpose", String(300), nullable=False),
    Column("incident_lat", Float, nullable=False),
    Column("incident_lon", Float, nullable=False),
    Column("radius_m", Float, nullable=False),
    Column("window_start", UtcDateTime, nullable=False),
    Column("window_end", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
)

footage_request_camera = Table(
    "footage_request_camera", metadata,
    Column("request_id", String(36), ForeignKey("footage_request.id"), primary_key=True),
    Column("camera_pk", Integer, ForeignKey("camera.pk"), primary_key=True),
    Column("owner_id", String(36), ForeignKey("user_account.id"), nullable=False, index=True),
    Column("answer", String(16), nullable=False),
    Column("note", String(1000), nullable=True),
    Column("answered_at", UtcDateTime, nullable=True),
)

evidence_item = Table(
    "evidence_item", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    # null: a clip asked of an edge box (edge_clip has the same id), not an owner's answer to a request
    Column("request_id", String(36), ForeignKey("footage_request.id"), nullable=True, index=True),
    Column("case_number", String(64), nullable=False),
    Column("camera_pk", Integer, ForeignKey("camera.pk"), nullable=False),
    Column("owner_id", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("media_type", String(64), nullable=False),
    Column("size_bytes", Integer, nullable=False),
    Column("sha256", String(64), nullable=False),
    Column("storage_key", String(200), nullable=False),
    Column("original_name", String(255), nullable=False),
    Column("uploaded_at", UtcDateTime, nullable=False),
    Index("ix_evidence_agency_case", "agency_id", "case_number"),
)

notification = Table(
    "notification", metadata,
    Column("id", String(36), primary_key=True),
    Column("user_id", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("kind", String(32), nullable=False),
    Column("subject", String(200), nullable=False),
    Column("body", Text, nullable=False),
    Column("link", String(300), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("read_at", UtcDateTime, nullable=True),
    Index("ix_notification_user_created", "user_id", "created_at"),
)

outbox = Table(
    "outbox", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("topic", String(64), nullable=False),
    Column("payload", JsonDoc, nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("attempts", Integer, nullable=False, default=0),
    Column("next_attempt_at", UtcDateTime, nullable=False),
    Column("dispatched_at", UtcDateTime, nullable=True),
    Column("last_error", String(500), nullable=True),
    Index("ix_outbox_pending", "dispatched_at", "next_attempt_at"),
)

audit_log = Table(
    "audit_log", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=False),
    Column("at", UtcDateTime, nullable=False),
    Column("action", String(64), nullable=False),
    Column("outcome", String(16), nullable=False),
    Column("actor_id", String(36), nullable=True),
    Column("agency_id", String(36), nullable=True),
    Column("target", String(200), nullable=True),
    Column("source", String(64), nullable=True),
    Column("details", JSON, nullable=False),  # plain JSON on both: the hashed text must round-trip
    Column("prev_hash", String(64), nullable=False),
    Column("hash", String(64), nullable=False),
    Index("ix_audit_agency_at", "agency_id", "at"),
)

audit_head = Table(
    "audit_head", metadata,
    Column("id", Integer, primary_key=True),  # always 1: the lock that serialises the chain
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
)

# --- plate recognition: sources, reads, hot lists, alerts (issue 3) ---

read_source = Table(
    # Something that sends plate reads: an edge box, a plate camera, an integration. It holds a key;
    # the hub keeps only the key's sha256.
    "read_source", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("kind", String(24), nullable=False),  # edge | lpr_camera | integration
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("default_state", String(2), nullable=True),  # where the source's reads are assumed to be from
    Column("created_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

plate_read = Table(
    # On PostgreSQL (migration 0007) partitioned by day on captured_at with a DEFAULT partition: there the primary
    # and unique keys also hold captured_at and alert.read_id has no foreign key (adapters/db/read_partitions.py).
    "plate_read", metadata,
    Column("seq", Integer, primary_key=True, autoincrement=True),
    Column("id", String(36), nullable=False, unique=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("source_id", String(36), ForeignKey("read_source.id"), nullable=False),
    Column("read_key", String(128), nullable=False),  # the source's idempotency key
    Column("camera_id", String(36), nullable=True),  # a registered camera's public id, when known
    Column("plate", String(10), nullable=False),  # normalize_plate()
    Column("plate_key", String(10), nullable=False),  # lookalike_key(plate)
    Column("state", String(2), nullable=True),
    Column("region", String(8), nullable=True),
    Column("confidence", Float, nullable=False),
    Column("candidates", JsonDoc, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("heading_deg", Float, nullable=True),
    Column("vehicle_make", String(40), nullable=True),
    Column("vehicle_colour", String(20), nullable=True),
    Column("vehicle_type", String(20), nullable=True),
    Column("crop_key", String(200), nullable=True),
    Column("snapshot_key", String(200), nullable=True),
    Column("content_hash", String(64), nullable=False),  # tells a retried send from a conflicting one
    Column("captured_at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Index("uq_plate_read_source_key", "source_id", "read_key", unique=True),
    Index("ix_plate_read_agency_plate", "agency_id", "plate"),
    Index("ix_plate_read_agency_key", "agency_id", "plate_key"),
    Index("ix_plate_read_agency_captured", "agency_id", "captured_at"),
)

hot_list = Table(
    "hot_list", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("format", String(16), nullable=False),  # ncic | vendor | custom
    Column("stale_after_hours", Integer, nullable=True),  # null: a list that is not a feed
    Column("version", Integer, nullable=False),  # bumped by each successful import
    Column("entry_count", Integer, nullable=False),
    Column("refreshed_at", UtcDateTime, nullable=True),  # last successful import
    Column("stale_alarm_at", UtcDateTime, nullable=True),  # set while the stale alarm is raised
    Column("created_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("uq_hot_list_agency_name", "agency_id", "name", unique=True),
)

hot_list_entry = Table(
    "hot_list_entry", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("list_id", String(36), ForeignKey("hot_list.id"), nullable=False, index=True),
    Column("line", Integer, nullable=True),  # where it came from in the imported file
    Column("plate", String(24), nullable=False),  # normalize_plate_pattern(): may hold * and ?
    Column("state", String(2), nullable=True),
    Column("category", String(32), nullable=False),
    Column("priority", Integer, nullable=True),
    Column("reason", String(300), nullable=True),
    Column("owner", String(120), nullable=True),
    Column("make", String(40), nullable=True),
    Column("colour", String(40), nullable=True),
    Column("year", Integer, nullable=True),
    Column("plate_type", String(8), nullable=True),
    Column("ncic_number", String(16), nullable=True),
    Column("ori", String(16), nullable=True),
    Column("case_number", String(64), nullable=True),
    Column("effective_at", UtcDateTime, nullable=True),
    Column("expires_at", UtcDateTime, nullable=True),
)

alert = Table(
    "alert", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("read_id", String(36), ForeignKey("plate_read.id"), nullable=False),
    Column("list_id", String(36), ForeignKey("hot_list.id"), nullable=False),
    Column("entry", JsonDoc, nullable=False),  # the hot-list record as it stood when the hit was made
    Column("match_kind", String(16), nullable=False),  # exact | state_blind | lookalike | one_edit | partial
    Column("status", String(16), nullable=False),  # new | confirmed | misread | wrong_state | resolved
    Column("disposition_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("disposition_at", UtcDateTime, nullable=True),
    Column("disposition_note", String(500), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("uq_alert_read_list", "read_id", "list_id", unique=True),
    Index("ix_alert_agency_created", "agency_id", "created_at"),
)


# --- edge boxes: enrolment, link, health, emergencies, live sessions, clips, holds (issue 4) ---

edge_box = Table(
    # An owner's box. It holds a key of its own; the hub keeps only the key's sha256.
    "edge_box", metadata,
    Column("id", String(36), primary_key=True),
    Column("owner_id", String(36), ForeignKey("user_account.id"), nullable=False, index=True),
    Column("name", String(120), nullable=False),
    Column("key_hash", String(64), nullable=False, unique=True),
    Column("enrolled_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
    Column("last_seen_at", UtcDateTime, nullable=True),
    Column("connected", Boolean, nullable=False, server_default="0"),
    Column("software_version", String(40), nullable=True),
    Column("clock_skew_ms", Integer, nullable=True),  # edge clock minus hub clock at the last hello/health
    Column("status", JsonDoc, nullable=False, server_default="{}"),  # last health: disk, alarms, cameras seen
)

edge_enrolment = Table(
    # A one-time code the owner gets in the portal and types into the box; only its sha256 is kept.
    "edge_enrolment", metadata,
    Column("code_hash", String(64), primary_key=True),
    Column("owner_id", String(36), ForeignKey("user_account.id"), nullable=False, index=True),
    Column("edge_name", String(120), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("used_at", UtcDateTime, nullable=True),
    Column("edge_id", String(36), nullable=True),
)

camera_health = Table(
    "camera_health", metadata,
    Column("camera_id", String(36), primary_key=True),  # the registry camera's public id
    Column("edge_id", String(36), ForeignKey("edge_box.id"), nullable=False, index=True),
    Column("online", Boolean, nullable=False),
    Column("fps", Float, nullable=True),
    Column("bitrate_kbps", Float, nullable=True),
    Column("last_frame_at", UtcDateTime, nullable=True),
    Column("error", String(300), nullable=True),
    Column("reported_at", UtcDateTime, nullable=False),
)

emergency = Table(
    # Declared by an agency supervisor; opens emergency-only sharing for cameras nearby until it expires.
    "emergency", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("radius_m", Float, nullable=False),
    Column("reason", String(300), nullable=False),
    Column("case_number", String(64), nullable=True),
    Column("declared_by", String(36), ForeignKey("user_account.id"), nullable=True),  # null: a CAD call type
    Column("declared_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Index("ix_emergency_agency_expires", "agency_id", "expires_at"),
)

edge_access = Table(
    # The edge's own access log, mirrored: the owner sees what the box saw next to what the hub saw.
    "edge_access", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("edge_id", String(36), ForeignKey("edge_box.id"), nullable=False),
    Column("entry_id", String(64), nullable=False),  # the edge's id for the entry: re-sends are idempotent
    Column("camera_id", String(36), nullable=True),
    Column("agency_id", String(36), nullable=True),
    Column("user_id", String(36), nullable=True),
    Column("kind", String(24), nullable=False),  # live | clip | hold | reads | policy
    Column("outcome", String(16), nullable=False),  # allowed | refused | ended
    Column("reason", String(300), nullable=False),
    Column("purpose", String(300), nullable=True),
    Column("case_number", String(64), nullable=True),
    Column("at", UtcDateTime, nullable=False),
    Column("received_at", UtcDateTime, nullable=False),
    Index("uq_edge_access_entry", "edge_id", "entry_id", unique=True),
    Index("ix_edge_access_camera_at", "camera_id", "at"),
)

live_session = Table(
    "live_session", metadata,
    Column("id", String(36), primary_key=True),
    Column("camera_id", String(36), nullable=False, index=True),
    Column("edge_id", String(36), ForeignKey("edge_box.id"), nullable=False),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("user_id", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("purpose", String(300), nullable=False),
    Column("case_number", String(64), nullable=True),
    Column("upload_token_hash", String(64), nullable=False),
    Column("started_at", UtcDateTime, nullable=False),
    Column("ended_at", UtcDateTime, nullable=True),
    Column("end_reason", String(300), nullable=True),
)

edge_clip = Table(
    # A time range of recorded video asked of an edge box; it arrives with its SHA-256 or is refused.
    "edge_clip", metadata,
    Column("id", String(36), primary_key=True),
    Column("camera_id", String(36), nullable=False, index=True),
    Column("edge_id", String(36), ForeignKey("edge_box.id"), nullable=False),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("user_id", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("purpose", String(300), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("status", String(16), nullable=False),  # requested | ready | refused | failed
    Column("reason", String(300), nullable=True),
    Column("upload_token_hash", String(64), nullable=False),
    Column("sha256", String(64), nullable=True),
    Column("size_bytes", Integer, nullable=True),
    Column("storage_key", String(200), nullable=True),
    Column("requested_at", UtcDateTime, nullable=False),
    Column("completed_at", UtcDateTime, nullable=True),
    Index("ix_edge_clip_agency_case", "agency_id", "case_number"),
)

edge_hold = Table(
    # Footage an agency asked the box to keep past retention and eviction, for a case.
    "edge_hold", metadata,
    Column("id", String(36), primary_key=True),
    Column("camera_id", String(36), nullable=False, index=True),
    Column("edge_id", String(36), ForeignKey("edge_box.id"), nullable=False),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("start_at", UtcDateTime, nullable=False),
    Column("end_at", UtcDateTime, nullable=False),
    Column("created_by", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("released_at", UtcDateTime, nullable=True),
    Column("confirmed_at", UtcDateTime, nullable=True),  # when the box confirmed it keeps the footage
)


# --- command center: incidents, tips, dissemination, inbound integrations (issue 5) ---

incident = Table(
    "incident", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("source", String(16), nullable=False),  # operator | cad | gunshot | tip
    Column("external_id", String(120), nullable=True),  # CAD incident number, detector event id, tip id
    Column("category", String(40), nullable=False),
    Column("priority", Integer, nullable=False),  # 1 (most urgent) .. 5
    Column("title", String(200), nullable=False),
    Column("description", Text, nullable=True),
    Column("lat", Float, nullable=False),
    Column("lon", Float, nullable=False),
    Column("address", String(200), nullable=True),
    Column("status", String(16), nullable=False),  # new | acknowledged | assigned | closed
    Column("assigned_to", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("escalated_at", UtcDateTime, nullable=True),
    Column("disposition", String(40), nullable=True),
    Column("disposition_note", String(500), nullable=True),
    Column("emergency_id", String(36), ForeignKey("emergency.id"), nullable=True),
    Column("created_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("updated_at", UtcDateTime, nullable=False),
    Column("closed_at", UtcDateTime, nullable=True),
    Column("details", JsonDoc, nullable=False, server_default="{}"),  # CAD code, rounds fired, ...
    Index("ix_incident_agency_created", "agency_id", "created_at"),
    Index("uq_incident_external", "agency_id", "source", "external_id", unique=True),
)

incident_event = Table(
    # The incident's timeline: every operator action and every update from outside, in order.
    "incident_event", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("incident_id", String(36), ForeignKey("incident.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("action", String(32), nullable=False),
    Column("details", JsonDoc, nullable=False, server_default="{}"),
)

alert_action = Table(
    # Operator actions on a plate alert besides its disposition: acknowledge, assign, escalate.
    "alert_action", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("alert_id", String(36), ForeignKey("alert.id"), nullable=False, index=True),
    Column("at", UtcDateTime, nullable=False),
    Column("actor_id", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("action", String(32), nullable=False),  # acknowledge | assign | escalate
    Column("assigned_to", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("note", String(500), nullable=True),
)

inbound_integration = Table(
    # A system that sends the hub signed webhooks: a CAD, a gunshot detector. Its secret signs each call.
    "inbound_integration", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False, index=True),
    Column("kind", String(16), nullable=False),  # cad | gunshot
    Column("name", String(120), nullable=False),
    Column("secret", String(128), nullable=False),  # HMAC key: needed whole to check signatures
    Column("config", JsonDoc, nullable=False, server_default="{}"),  # CAD: code -> category/priority/emergency
    Column("created_at", UtcDateTime, nullable=False),
    Column("revoked_at", UtcDateTime, nullable=True),
)

webhook_delivery_seen = Table(
    # Replay protection: delivery ids accepted from each integration, kept past the signature tolerance.
    "webhook_delivery_seen", metadata,
    Column("integration_id", String(36), primary_key=True),
    Column("delivery_id", String(128), primary_key=True),
    Column("seen_at", UtcDateTime, nullable=False, index=True),
)

tip = Table(
    # A public tip: text, optionally a photo or clip, rate-limited; lands in the agency's command-center queue.
    "tip", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("text", Text, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("location_text", String(200), nullable=True),
    Column("contact", String(200), nullable=True),  # only if the tipster chose to leave one
    Column("media_key", String(200), nullable=True),
    Column("media_type", String(60), nullable=True),
    Column("media_bytes", Integer, nullable=True),
    Column("media_sha256", String(64), nullable=True),
    Column("status", String(16), nullable=False),  # new | reviewed | promoted | dismissed
    Column("incident_id", String(36), ForeignKey("incident.id"), nullable=True),
    Column("reviewed_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("reviewed_at", UtcDateTime, nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("ix_tip_agency_created", "agency_id", "created_at"),
)

rate_limit_hit = Table(
    # One row per counted request of a public form (sign-up, tip) by a keyed hash of the client, never its IP.
    "rate_limit_hit", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("bucket", String(40), nullable=False),
    Column("client_hash", String(64), nullable=False),
    Column("at", UtcDateTime, nullable=False),
    Index("ix_rate_limit_hit_bucket_client_at", "bucket", "client_hash", "at"),
)

subscriber = Table(
    "subscriber", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("audience", String(24), nullable=False),  # police_unit | public | private_security | partner_business
    Column("channel", String(16), nullable=False),  # email | sms | push | webhook | mqtt | websocket
    Column("address", String(500), nullable=False),
    Column("name", String(120), nullable=True),
    Column("categories", JsonDoc, nullable=False, server_default="[]"),  # empty: every category
    Column("geofence", JsonDoc, nullable=True),  # GeoJSON Polygon or a circle; null: anywhere
    Column("secret", String(128), nullable=True),  # webhook signing secret; websocket token hash
    Column("status", String(16), nullable=False),  # pending | active | unsubscribed | disabled
    Column("confirm_hash", String(64), nullable=True),  # double opt-in: sha256 of the code or link token
    Column("confirm_expires_at", UtcDateTime, nullable=True),
    Column("created_by", String(36), ForeignKey("user_account.id"), nullable=True),  # null: public sign-up
    Column("created_at", UtcDateTime, nullable=False),
    Column("confirmed_at", UtcDateTime, nullable=True),
    Column("unsubscribed_at", UtcDateTime, nullable=True),
    Index("ix_subscriber_agency_status", "agency_id", "status"),
)

notice = Table(
    # Something disseminated: an alert, an incident change, an operator's bulletin, a sign-up confirmation.
    "notice", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # alert | incident | bulletin | confirmation
    Column("change", String(8), nullable=False),  # new | update | end
    Column("source_key", String(120), nullable=True),  # alert:<id>:new, incident:<id>:<n>: one notice each
    Column("category", String(40), nullable=False),
    Column("priority", Integer, nullable=False),
    Column("lat", Float, nullable=True),
    Column("lon", Float, nullable=True),
    Column("document", JsonDoc, nullable=False),  # the Notice as it was disseminated
    Column("created_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Index("uq_notice_source_key", "source_key", unique=True),
    Index("ix_notice_agency_created", "agency_id", "created_at"),
)

delivery = Table(
    # One notice to one subscriber over its channel: the delivery log, the retry queue and the dead letters.
    "delivery", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("notice_id", String(36), ForeignKey("notice.id"), nullable=False, index=True),
    Column("subscriber_id", String(36), ForeignKey("subscriber.id"), nullable=False),
    Column("channel", String(16), nullable=False),
    Column("status", String(16), nullable=False),  # queued | sent | failed | dead | suppressed
    Column("attempts", Integer, nullable=False, server_default="0"),
    Column("next_at", UtcDateTime, nullable=True),
    Column("last_error", String(300), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("handed_at", UtcDateTime, nullable=True),  # when the channel accepted it
    Index("ix_delivery_status_next", "status", "next_at"),
    Index("ix_delivery_subscriber_created", "subscriber_id", "created_at"),
)

plate_integration = Table(
    # Plate reads from systems already running: Frigate (its MQTT lpr updates) or Plate Recognizer Stream
    # (webhooks). Each belongs to a read source, whose agency and ingest rules apply to its reads.
    "plate_integration", metadata,
    Column("id", String(36), primary_key=True),
    Column("read_source_id", String(36), ForeignKey("read_source.id"), nullable=False, index=True),
    Column("kind", String(24), nullable=False),  # frigate | plate_recognizer
    Column("config", JsonDoc, nullable=False, server_default="{}"),  # broker, topic prefix, camera map ...
    Column("secret", String(256), nullable=True),  # broker password or webhook token
    Column("created_at", UtcDateTime, nullable=False),
    Column("disabled_at", UtcDateTime, nullable=True),
    Column("status", JsonDoc, nullable=False, server_default="{}"),  # connected, last message, last error
)


# --- governance: retention, purpose-bound search, sharing, transparency, anchoring (issue 6) ---

agency_governance = Table(
    # One row per agency: its retention, its prohibited purposes and its search rules, and the policy text the
    # transparency portal publishes. Absent: the defaults of domain.governance.
    "agency_governance", metadata,
    Column("agency_id", String(36), ForeignKey("agency.id"), primary_key=True),
    Column("kind", String(16), nullable=False, server_default="local"),  # local | county | state | federal | tribal
    Column("retention_days", Integer, nullable=False, server_default="30"),  # reads, snapshots, clips, logs
    Column("prohibited_purposes", JsonDoc, nullable=False, server_default="[]"),  # purpose codes refused
    Column("search_camera_limit", Integer, nullable=False, server_default="50"),  # more needs a supervisor
    Column("repeat_search_threshold", Integer, nullable=False, server_default="3"),  # same user, same plate
    Column("repeat_search_window_hours", Integer, nullable=False, server_default="168"),
    Column("policy_text", Text, nullable=False, server_default=""),  # published on the transparency portal
    Column("updated_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("updated_at", UtcDateTime, nullable=True),
)

legal_hold = Table(
    # Keeps everything tied to a case (its evidence, its locked reads, its clips) past retention until released.
    "legal_hold", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("reason", String(300), nullable=False),
    Column("created_by", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("created_at", UtcDateTime, nullable=False),
    Column("released_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("released_at", UtcDateTime, nullable=True),
    Index("ix_legal_hold_agency_case", "agency_id", "case_number"),
)

case_read = Table(
    # An evidence lock: a plate read (and its alert, if any) copied into a case, so that it survives the read's
    # expiry (and, on PostgreSQL, the drop of its time partition). Kept while the case has a legal hold.
    "case_read", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("read_id", String(36), nullable=False),  # the plate_read's id; no FK: the read itself expires
    Column("alert_id", String(36), nullable=True),
    Column("document", JsonDoc, nullable=False),  # the read (and alert) as they stood when locked
    Column("crop_key", String(200), nullable=True),
    Column("snapshot_key", String(200), nullable=True),
    Column("locked_by", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("locked_at", UtcDateTime, nullable=False),
    Index("uq_case_read_agency_case_read", "agency_id", "case_number", "read_id", unique=True),
)

retention_run = Table(
    # One purge: when, whether the clock check let it run, and its deletion report.
    "retention_run", metadata,
    Column("id", String(36), primary_key=True),
    Column("started_at", UtcDateTime, nullable=False),
    Column("finished_at", UtcDateTime, nullable=True),
    Column("trigger", String(16), nullable=False),  # schedule | cli | api
    Column("outcome", String(16), nullable=False),  # running | done | refused | failed
    Column("reason", String(300), nullable=True),  # why it was refused or failed
    Column("report", JsonDoc, nullable=False, server_default="{}"),  # counts per agency and kind, orphans
)

alert_tally = Table(
    # Alert outcomes counted per day before the alerts expire: the transparency portal's misread rate outlives
    # the reads without keeping a plate.
    "alert_tally", metadata,
    Column("agency_id", String(36), ForeignKey("agency.id"), primary_key=True),
    Column("day", String(10), primary_key=True),  # YYYY-MM-DD (UTC)
    Column("status", String(16), primary_key=True),  # new | confirmed | misread | wrong_state | resolved
    Column("count", Integer, nullable=False),
)

search_log = Table(
    # Every plate and area search with its structured purpose; plates only as a keyed hash. Feeds the repeat-
    # search alarm and the transparency portal's searches by purpose; expires with the agency's retention.
    "search_log", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("user_id", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # plate | area | camera
    Column("purpose", String(48), nullable=False),  # a code of domain.search_purposes
    Column("offence", String(8), nullable=False),  # a NIBRS offence code
    Column("case_number", String(64), nullable=False),
    Column("plate_hash", String(64), nullable=True),  # HMAC of the normalised plate under the hub's key
    Column("camera_count", Integer, nullable=True),  # cameras the search's area covers
    Column("approval_id", String(36), nullable=True),
    Column("outcome", String(16), nullable=False),  # done | refused
    Column("at", UtcDateTime, nullable=False),
    Index("ix_search_log_agency_at", "agency_id", "at"),
    Index("ix_search_log_user_plate_at", "user_id", "plate_hash", "at"),
)

search_approval = Table(
    # A search over more cameras than the agency's limit waits for a supervisor.
    "search_approval", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("requested_by", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("kind", String(16), nullable=False),  # plate | area | camera
    Column("purpose", String(48), nullable=False),
    Column("offence", String(8), nullable=False),
    Column("case_number", String(64), nullable=False),
    Column("justification", String(500), nullable=False),
    Column("scope", JsonDoc, nullable=False),  # the search's area and window, as asked
    Column("camera_count", Integer, nullable=False),
    Column("status", String(16), nullable=False),  # pending | approved | denied | used | expired
    Column("decided_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("decided_at", UtcDateTime, nullable=True),
    Column("decision_note", String(500), nullable=True),
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Index("ix_search_approval_agency_status", "agency_id", "status"),
)

sharing_grant = Table(
    # Deny by default: one agency lets one other agency see one kind of its data, for named purposes, until expiry.
    "sharing_grant", metadata,
    Column("id", String(36), primary_key=True),
    Column("from_agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("to_agency_id", String(36), ForeignKey("agency.id"), nullable=False),
    Column("data_kind", String(24), nullable=False),  # plate_reads | hot_lists | camera_locations
    Column("purposes", JsonDoc, nullable=False),  # purpose codes; never empty
    Column("note", String(500), nullable=True),
    # A grant to a federal agency exists only with this explicit one-to-one acknowledgement.
    Column("federal_one_to_one", Boolean, nullable=False, server_default="0"),
    Column("created_by", String(36), ForeignKey("user_account.id"), nullable=True),  # None: the rtcc CLI
    Column("created_at", UtcDateTime, nullable=False),
    Column("expires_at", UtcDateTime, nullable=False),
    Column("revoked_by", String(36), ForeignKey("user_account.id"), nullable=True),
    Column("revoked_at", UtcDateTime, nullable=True),
    Index("ix_sharing_grant_to_kind", "to_agency_id", "data_kind"),
    Index("ix_sharing_grant_from", "from_agency_id"),
)

hotlist_subscription = Table(
    # A hot list shared in by another agency applies to this agency's reads only after an admin opts in.
    "hotlist_subscription", metadata,
    Column("id", String(36), primary_key=True),
    Column("agency_id", String(36), ForeignKey("agency.id"), nullable=False),  # the receiving agency
    Column("list_id", String(36), ForeignKey("hot_list.id"), nullable=False),
    Column("grant_id", String(36), ForeignKey("sharing_grant.id"), nullable=False),
    Column("opted_in_by", String(36), ForeignKey("user_account.id"), nullable=False),
    Column("opted_in_at", UtcDateTime, nullable=False),
    Column("opted_out_at", UtcDateTime, nullable=True),
    Index("ix_hotlist_subscription_agency", "agency_id"),
)

audit_anchor = Table(
    # The audit chain's head, signed with the hub's Ed25519 key once a day, for outside parties to keep.
    "audit_anchor", metadata,
    Column("id", Integer, primary_key=True, autoincrement=True),
    Column("day", String(10), nullable=False),  # YYYY-MM-DD (UTC): one anchor a day, however many hubs try
    Column("seq", Integer, nullable=False),
    Column("hash", String(64), nullable=False),
    Column("anchored_at", UtcDateTime, nullable=False),
    Column("key_id", String(64), nullable=False),  # sha256 of the raw public key
    Column("statement", Text, nullable=False),  # the canonical JSON that was signed
    Column("signature", String(128), nullable=False),  # base64 Ed25519 signature over the statement
    Index("ix_audit_anchor_anchored_at", "anchored_at"),
    Index("uq_audit_anchor_day", "day", unique=True),
)
