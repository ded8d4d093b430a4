"""Camera repository: R*Tree on SQLite, PostGIS geography on PostgreSQL."""

from __future__ import annotations

from datetime import time

from sqlalchemy import Connection, and_, insert, select, text, update

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
from openrtcc.domain.geo import Area, Point, area_to_geojson, bbox_around, distance_m

_ACTIVE = CameraStatus.ACTIVE.value
_PREFILTER_SLACK_M = 1.0  # the index may return a little more; the exact distance test trims it


def schedule_to_json(windows: tuple[ScheduleWindow, ...]) -> list[dict]:
    return [{"weekday": w.weekday, "start": w.start.strftime("%H:%M"), "end": w.end.strftime("%H:%M")} for w in windows]


def schedule_from_json(doc: list[dict]) -> tuple[ScheduleWindow, ...]:
    return tuple(ScheduleWindow(d["weekday"], time.fromisoformat(d["start"]), time.fromisoformat(d["end"])) for d in doc)


def _row_to_camera(r) -> Camera:
    return Camera(
        id=r.id, agency_id=r.agency_id, owner_id=r.owner_id, name=r.name,
        location=Point(r.lat, r.lon), address=r.address,
        view=ViewCone(r.bearing_deg, r.fov_deg, r.range_m), tier=Tier(r.tier),
        policy=SharingPolicy(SharingMode(r.sharing_mode), r.share_live, r.share_recorded,
                             schedule_from_json(r.schedule)),
        public_facing_attested=r.public_facing_attested, make=r.make, model=r.model,
        owner_retention_days=r.owner_retention_days, status=CameraStatus(r.status),
        created_at=r.created_at, updated_at=r.updated_at,
        possible_duplicate_of=r.possible_duplicate_of, withdrawn_at=r.withdrawn_at, pk=r.pk,
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
        withdrawn_at=c.withdrawn_at,
    )


_COLUMNS = [c for c in t.c if c.name != "geog"]


class SqlCameraRepo:
    def __init__(self, conn: Connection):
        self.conn = conn
        self.spatial = "postgis" if conn.dialect.name == "postgresql" else "rtree"

    def add(self, camera: Camera) -> Camera:
        camera.pk = self.conn.execute(insert(t).values(**_values(camera)).returning(t.c.pk)).scalar_one()
        return camera

    def add_many(self, cameras: list[Camera]) -> None:
        if cameras:
            self.conn.execute(insert(t), [_values(c) for c in cameras])

    def update(self, camera: Camera) -> None:
        values = _values(camera)
        values.pop("id")
        self.conn.execute(update(t).where(t.c.id == camera.id).values(**values))

    def get_for_owner(self, owner_id: str, camera_id: str) -> Camera | None:
        r = self.conn.execute(select(*_COLUMNS).where(t.c.id == camera_id, t.c.owner_id == owner_id)).first()
        return _row_to_camera(r) if r else None

    def list_for_owner(self, owner_id: str) -> list[Camera]:
        rows = self.conn.execute(select(*_COLUMNS).where(t.c.owner_id == owner_id).order_by(t.c.created_at))
        return [_row_to_camera(r) for r in rows]

    def get_for_agency(self, agency_id: str, camera_id: str) -> Camera | None:
        r = self.conn.execute(
            select(*_COLUMNS).where(t.c.id == camera_id, t.c.agency_id == agency_id, t.c.status == _ACTIVE)
        ).first()
        return _row_to_camera(r) if r else None

    def near_owner(self, owner_id: str, center: Point, radius_m: float) -> list[Camera]:
        return [c for c in self._near(center, radius_m, t.c.owner_id == owner_id, 1000)
                if distance_m(c.location, center) <= radius_m]

    def within_radius(self, agency_id: str, center: Point, radius_m: float, limit: int) -> list[Camera]:
        scope = and_(t.c.agency_id == agency_id, t.c.status == _ACTIVE)
        found = [c for c in self._near(center, radius_m, scope, None) if distance_m(c.location, center) <= radius_m]
        found.sort(key=lambda c: distance_m(c.location, center))
        return found[:limit]

    def within_area(self, agency_id: str, area: Area, limit: int) -> list[Camera]:
        scope = and_(t.c.agency_id == agency_id, t.c.status == _ACTIVE)
        if self.spatial == "postgis":
            import json

            q = select(*_COLUMNS).where(
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
        q = select(t.c.id, t.c.lat, t.c.lon, t.c.tier, t.c.sharing_mode).where(
            t.c.agency_id == agency_id, t.c.status == _ACTIVE
        )
        return [tuple(r) for r in self.conn.execute(q)]

    def count_for_agency(self, agency_id: str) -> int:
        from sqlalchemy import func

        return self.conn.execute(
            select(func.count()).select_from(t).where(t.c.agency_id == agency_id, t.c.status == _ACTIVE)
        ).scalar_one()

    def _near(self, center: Point, radius_m: float, scope, limit: int | None) -> list[Camera]:
        """An index prefilter, a superset of the cameras within `radius_m`; callers apply the exact rule."""
        if self.spatial == "postgis":
            # On the sphere (use_spheroid false), as the hub's own haversine distance is: on the spheroid a
            # camera 99.9 m due east (by the distance the hub reports) lies 100.2 m away and was dropped.
            q = select(*_COLUMNS).where(
                scope,
                text("ST_DWithin(camera.geog, ST_SetSRID(ST_MakePoint(:lon, :lat), 4326)::geography, :r, false)")
                .bindparams(lon=center.lon, lat=center.lat, r=radius_m + _PREFILTER_SLACK_M),
            )
        else:
            b = bbox_around(center, radius_m)
            q = self._rtree_select(b.min_lat, b.max_lat, b.min_lon, b.max_lon, scope)
        if limit:
            q = q.limit(limit)
        return [_row_to_camera(r) for r in self.conn.execute(q)]

    @staticmethod
    def _rtree_select(min_lat, max_lat, min_lon, max_lon, scope):
        # R*Tree keeps 32-bit floats, rounding each point out to a box up to ~1 m wide. Asking for boxes
        # that overlap the search box (not boxes inside it) keeps cameras right at the edge; the caller's
        # exact test on the stored double coordinates then decides.
        return select(*_COLUMNS).where(
            scope,
            text(
                "camera.pk IN (SELECT pk FROM camera_rtree WHERE max_lat >= :a AND min_lat <= :b "
                "AND max_lon >= :c AND min_lon <= :d)"
            ).bindparams(a=min_lat, b=max_lat, c=min_lon, d=max_lon),
        )
