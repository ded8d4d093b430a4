"""Camera repository: R*Tree on SQLite, PostGIS geography on PostgreSQL."""

from __future__ import annotations

import json
from datetime import UTC, datetime, time
from functools import lru_cache

from sqlalchemy import (Connection, Float, Numeric, String, and_, bindparam, cast, func, insert, select, text,
                        type_coerce, update)

from openrtcc.adapters.db.tables import camera as t
from openrtcc.domain.cameras import (
    Camera,
    CameraStatus,
    ScheduleWindow,
    SharingMode,
    SharingPolicy,
    Tier,
    ViewCone,
)
from openrtcc.domain.map_columns import MICRODEGREES, SHARING_CODES, TIER_CODES, MapColumns
from openrtcc.domain.privacy_masks import PrivacyMask
from openrtcc.domain.geo import Area, Point, area_to_geojson, bbox_around, distance_m

_ACTIVE = CameraStatus.ACTIVE.value
_PREFILTER_SLACK_M = 1.0  # the index may return a little more; the exact distance test trims it


def _code_of(column: str, codes: tuple[str, ...]) -> str:
    # A value outside the list still takes its one character ('-'), so the columns stay aligned.
    whens = " ".join(f"WHEN '{value}' THEN '{k}'" for k, value in enumerate(codes))
    return f"CASE {column} {whens} ELSE '-' END"


def _map_columns_sql(agg, micro: str):
    return text(
        f"SELECT count(*), {agg('id', ',')}, {agg(micro.format('lat'), ',')}, {agg(micro.format('lon'), ',')}, "
        f"{agg(_code_of('tier', TIER_CODES), '')}, {agg(_code_of('sharing_mode', SHARING_CODES), '')} "
        "FROM camera WHERE agency_id = :agency AND status = :active"
    )


# SQLite feeds each row to every aggregate of the query in turn, so the columns line up; PostgreSQL is told
# the order for each.
_MAP_COLUMNS = {
    "rtree": _map_columns_sql(lambda x, sep: f"group_concat({x}, '{sep}')",
                              f"CAST(round({{}} * {MICRODEGREES}) AS INTEGER)"),
    "postgis": _map_columns_sql(lambda x, sep: f"string_agg(({x})::text, '{sep}' ORDER BY pk)",
                                f"CAST(round(CAST({{}} AS numeric) * {MICRODEGREES}) AS bigint)"),
}


def schedule_to_json(windows: tuple[ScheduleWindow, ...]) -> list[dict]:
    return [{"weekday": w.weekday, "start": w.start.strftime("%H:%M"), "end": w.end.strftime("%H:%M")} for w in windows]


def schedule_from_json(doc: list[dict]) -> tuple[ScheduleWindow, ...]:
    return tuple(ScheduleWindow(d["weekday"], time.fromisoformat(d["start"]), time.fromisoformat(d["end"])) for d in doc)


# The columns a Camera is built from, in this order (`_row_to_camera` unpacks rows positionally).
_FIELDS = ("pk", "id", "agency_id", "owner_id", "name", "lat", "lon", "address", "bearing_deg", "fov_deg", "range_m",
           "public_facing_attested", "make", "model", "owner_retention_days", "tier", "sharing_mode", "share_live",
           "share_recorded", "schedule", "emergency_radius_m", "privacy_masks", "share_reads_with", "status",
           "possible_duplicate_of", "created_at", "updated_at", "withdrawn_at", "edge_id")
_RAW_ON_SQLITE = ("schedule", "privacy_masks", "share_reads_with", "created_at", "updated_at", "withdrawn_at")


def _columns(raw: bool) -> list:
    """The select list. `raw` (SQLite): the JSON and time columns come as stored text, decoded here, because
    SQLAlchemy's processors for them (a json.loads and a regex parse per value) were half the cost of a
    radius search's 50-odd rows. PostgreSQL's driver returns them decoded already."""
    return [type_coerce(t.c[n], String).label(n) if raw and n in _RAW_ON_SQLITE else t.c[n] for n in _FIELDS]


@lru_cache(maxsize=4096)
def _policy_parts(schedule: str, masks: str, reads: str) -> tuple:
    """The policy's JSON columns as domain values; cached on the stored text (most cameras share '[]')."""
    return _parse_policy_parts(json.loads(schedule), json.loads(masks), json.loads(reads))


def _parse_policy_parts(schedule: list, masks: list, reads: list) -> tuple:
    return (schedule_from_json(schedule), tuple(PrivacyMask(tuple((x, y) for x, y in m)) for m in masks),
            tuple(reads))


def _utc(value) -> datetime | None:
    if value is None:
        return None
    if isinstance(value, str):  # SQLite's text, written by UtcDateTime as naive UTC
        return datetime.fromisoformat(value).replace(tzinfo=UTC)
    return value.replace(tzinfo=UTC) if value.tzinfo is None else value.astimezone(UTC)


# Enum members by stored value: a dict lookup costs a fraction of calling the enum, three times per row.
_TIERS, _MODES, _STATUSES = ({m.value: m for m in e} for e in (Tier, SharingMode, CameraStatus))


def _row_to_camera(row) -> Camera:
    (pk, id_, agency_id, owner_id, name, lat, lon, address, bearing, fov, range_m, attested, make, model,
     retention, tier, mode, share_live, share_recorded, schedule, emergency_radius_m, masks, reads, status,
     duplicate_of, created_at, updated_at, withdrawn_at, edge_id) = row
    if isinstance(schedule, str):
        schedule, masks, reads = _policy_parts(schedule, masks, reads)
    else:
        schedule, masks, reads = _parse_policy_parts(schedule, masks, reads)
    return Camera(
        id=id_, agency_id=agency_id, owner_id=owner_id, name=name, location=Point(lat, lon), address=address,
        view=ViewCone(bearing, fov, range_m), tier=_TIERS.get(tier) or Tier(tier),
        policy=SharingPolicy(_MODES.get(mode) or SharingMode(mode), bool(share_live), bool(share_recorded), schedule,
                             emergency_radius_m, masks, reads),
        public_facing_attested=bool(attested), make=make, model=model, owner_retention_days=retention,
        status=_STATUSES.get(status) or CameraStatus(status), created_at=_utc(created_at), updated_at=_utc(updated_at),
        possible_duplicate_of=duplicate_of, withdrawn_at=_utc(withdrawn_at), edge_id=edge_id, pk=pk,
    )


def _values(c: Camera) -> dict:
    return dict(
        id=c.id, agency_id=c.agency_id, owner_id=c.owner_id, name=c.name, lat=c.location.lat,
        lon=c.location.lon, address=c.address, bearing_deg=c.view.bearing_deg, fov_deg=c.view.fov_deg,
        range_m=c.view.range_m, public_facing_attested=c.public_facing_attested, make=c.make, model=c.model,
        owner_retention_days=c.owner_retention_days, tier=c.tier.value, sharing_mode=c.policy.mode.value,
        share_live=c.policy.share_live, share_recorded=c.policy.share_recorded,
        schedule=schedule_to_json(c.policy.schedule), status=c.status.value,
        possible_duplicate_of=c.possible_duplicate_of, created_at=c.created_at, updated_at=c.updated_at,
        withdrawn_at=c.withdrawn_at, edge_id=c.edge_id, emergency_radius_m=c.policy.emergency_radius_m,
        privacy_masks=[m.to_json() for m in c.policy.privacy_masks],
        share_reads_with=list(c.policy.share_reads_with),
    )


_COLUMNS = _columns(raw=False)
_RAW_COLUMNS = _columns(raw=True)
_ADD = insert(t).returning(t.c.pk)  # built once; registration runs it for every camera

# The proximity queries are built once with bound parameters: registration (the duplicate check) and
# every radius search run them, and building a 26-column select per call cost more than running it.
# R*Tree keeps 32-bit floats, rounding each point out to a box up to ~1 m wide: asking for boxes that
# overlap the search box keeps cameras right at the edge; the exact distance test then decides.
_IN_BOX = text("camera.pk IN (SELECT pk FROM camera_rtree WHERE max_lat >= :min_lat AND min_lat <= :max_lat "
               "AND max_lon >= :min_lon AND min_lon <= :max_lon)")
# On the sphere (use_spheroid false), as the hub's own haversine distance is: on the spheroid a camera
# 99.9 m due east (by the distance the hub reports) lies 100.2 m away and was dropped.
_WITHIN = text("ST_DWithin(camera.geog, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :r, false)")
_OWNER_SCOPE = t.c.owner_id == bindparam("owner_id")
_AGENCY_SCOPE = and_(t.c.agency_id == bindparam("agency_id"), t.c.status == _ACTIVE)
_NEAR_OWNER = {"rtree": select(*_RAW_COLUMNS).where(_OWNER_SCOPE, _IN_BOX).limit(1000),
               "postgis": select(*_COLUMNS).where(_OWNER_SCOPE, _WITHIN).limit(1000)}
_NEAR_AGENCY = {"rtree": select(*_RAW_COLUMNS).where(_AGENCY_SCOPE, _IN_BOX),
                "postgis": select(*_COLUMNS).where(_AGENCY_SCOPE, _WITHIN)}


class SqlCameraRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.spatial = "postgis" if conn.dialect.name == "postgresql" else "rtree"
        self.columns = _COLUMNS if self.spatial == "postgis" else _RAW_COLUMNS

    def add(self, camera: Camera) -> Camera:
        camera.pk = self.conn.execute(_ADD, _values(camera)).scalar_one()
        return camera

    def add_many(self, cameras: list[Camera]) -> None:
        if cameras:
            self.conn.execute(insert(t), [_values(c) for c in cameras])

    def update(self, camera: Camera) -> None:
        values = _values(camera)
        values.pop("id")
        self.conn.execute(update(t).where(t.c.id == camera.id).values(**values))

    def get_for_owner(self, owner_id: str, camera_id: str) -> Camera | None:
        r = self.conn.execute(select(*self.columns).where(t.c.id == camera_id, t.c.owner_id == owner_id)).first()
        return _row_to_camera(r) if r else None

    def list_for_owner(self, owner_id: str) -> list[Camera]:
        rows = self.conn.execute(select(*self.columns).where(t.c.owner_id == owner_id).order_by(t.c.created_at))
        return [_row_to_camera(r) for r in rows]

    def get_for_agency(self, agency_id: str, camera_id: str) -> Camera | None:
        r = self.conn.execute(
            select(*self.columns).where(t.c.id == camera_id, t.c.agency_id == agency_id, t.c.status == _ACTIVE)
        ).first()
        return _row_to_camera(r) if r else None

    def near_owner(self, owner_id: str, center: Point, radius_m: float) -> list[Camera]:
        return [c for c in self._near(_NEAR_OWNER, {"owner_id": owner_id}, center, radius_m)
                if distance_m(c.location, center) <= radius_m]

    def within_radius(self, agency_id: str, center: Point, radius_m: float, limit: int) -> list[Camera]:
        found = []
        for c in self._near(_NEAR_AGENCY, {"agency_id": agency_id}, center, radius_m):
            d = distance_m(c.location, center)
            if d <= radius_m:
                found.append((d, c))
        found.sort(key=lambda dc: dc[0])
        return [c for _, c in found[:limit]]

    def within_area(self, agency_id: str, area: Area, limit: int) -> list[Camera]:
        scope = and_(t.c.agency_id == agency_id, t.c.status == _ACTIVE)
        if self.spatial == "postgis":
            import json

            q = select(*self.columns).where(
                scope,
                text("ST_Covers(ST_GeomFromGeoJSON(:area)::geography, camera.geog)").bindparams(
                    area=json.dumps(area_to_geojson(area))
                ),
            ).limit(limit)
            return [_row_to_camera(r) for r in self.conn.execute(q)]
        b = area.bbox
        q = self._rtree_select(b.min_lat, b.max_lat, b.min_lon, b.max_lon, scope)
        found = [c for c in (_row_to_camera(r) for r in self.conn.execute(q)) if area.contains(c.location)]
        return found[:limit]

    def map_points(self, agency_id: str) -> list[tuple]:
        """(id, lat, lon, tier, sharing_mode) with coordinates rounded to 6 decimals (0.1 m) by the database:
        rounding 80,000 coordinates in Python took longer than serialising them."""
        q = select(t.c.id, self._six_decimals(t.c.lat), self._six_decimals(t.c.lon), t.c.tier, t.c.sharing_mode
                   ).where(t.c.agency_id == agency_id, t.c.status == _ACTIVE)
        return [tuple(r) for r in self.conn.execute(q)]

    def map_columns(self, agency_id: str) -> MapColumns:
        """The map's points as columns, joined into text by the database in one pass: turning 40,000 rows into
        Python tuples and those into JSON took most of the map request's time."""
        q = _MAP_COLUMNS[self.spatial]
        n, ids, lat, lon, tiers, sharing = self.conn.execute(q, {"agency": agency_id, "active": _ACTIVE}).one()
        return MapColumns(n, ids or "", lat or "", lon or "", tiers or "", sharing or "")

    def _six_decimals(self, column):
        if self.spatial == "postgis":  # PostgreSQL rounds numeric, not double precision, to a given scale
            return cast(func.round(cast(column, Numeric), 6), Float)
        # Scaled, rounded to an integer, divided back: SQLite's round(x, 6) is sometimes an ulp off
        # (42.795457999999996), which shows in the JSON; the quotient is the nearest double to the decimal.
        return func.round(column * 1_000_000) / 1_000_000.0

    def count_for_agency(self, agency_id: str) -> int:
        from sqlalchemy import func

        return self.conn.execute(
            select(func.count()).select_from(t).where(t.c.agency_id == agency_id, t.c.status == _ACTIVE)
        ).scalar_one()

    def _near(self, queries: dict, scope: dict, center: Point, radius_m: float) -> list[Camera]:
        """An index prefilter, a superset of the cameras within `radius_m`; callers apply the exact rule."""
        if self.spatial == "postgis":
            where = dict(lon=center.lon, lat=center.lat, r=radius_m + _PREFILTER_SLACK_M)
        else:
            b = bbox_around(center, radius_m)
            where = dict(min_lat=b.min_lat, max_lat=b.max_lat, min_lon=b.min_lon, max_lon=b.max_lon)
        return [_row_to_camera(r) for r in self.conn.execute(queries[self.spatial], {**scope, **where})]

    @staticmethod
    def _rtree_select(min_lat, max_lat, min_lon, max_lon, scope):
        # R*Tree keeps 32-bit floats, rounding each point out to a box up to ~1 m wide. Asking for boxes
        # that overlap the search box (not boxes inside it) keeps cameras right at the edge; the caller's
        # exact test on the stored double coordinates then decides.
        return select(*_RAW_COLUMNS).where(
            scope,
            text(
                "camera.pk IN (SELECT pk FROM camera_rtree WHERE max_lat >= :a AND min_lat <= :b "
                "AND max_lon >= :c AND min_lon <= :d)"
            ).bindparams(a=min_lat, b=max_lat, c=min_lon, d=max_lon),
        )
