"""Footage requests, owner answers, evidence items: each query scoped to an agency or an owner."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import Connection, insert, select, update

from openrtcc.adapters.db.tables import camera, evidence_item, footage_request, footage_request_camera


class SqlFootageRepo:
    def __init__(self, conn: Connection):
        self.conn = conn

    def add_request(self, **values) -> None:
        self.conn.execute(insert(footage_request).values(**values))

    def add_targets(self, request_id: str, targets: list[tuple[int, str]]) -> None:
        if targets:
            self.conn.execute(insert(footage_request_camera), [
                dict(request_id=request_id, camera_pk=pk, owner_id=owner, answer="pending") for pk, owner in targets
            ])

    def request_for_agency(self, agency_id: str, request_id: str):
        return self.conn.execute(select(footage_request).where(
            footage_request.c.id == request_id, footage_request.c.agency_id == agency_id)).first()

    def requests_for_agency(self, agency_id: str, limit: int = 200) -> list:
        return list(self.conn.execute(select(footage_request).where(footage_request.c.agency_id == agency_id)
                                      .order_by(footage_request.c.created_at.desc()).limit(limit)))

    def targets(self, request_id: str) -> list:
        return list(self.conn.execute(
            select(footage_request_camera, camera.c.id.label("camera_id"), camera.c.name.label("camera_name"),
                   camera.c.address)
            .join(camera, camera.c.pk == footage_request_camera.c.camera_pk)
            .where(footage_request_camera.c.request_id == request_id)
        ))

    def requests_for_owner(self, owner_id: str) -> list:
        return list(self.conn.execute(
            select(footage_request.c.id, footage_request.c.case_number, footage_request.c.purpose,
                   footage_request.c.window_start, footage_request.c.window_end, footage_request.c.created_at,
                   footage_request.c.agency_id, footage_request_camera.c.answer, footage_request_camera.c.note,
                   camera.c.id.label("camera_id"), camera.c.name.label("camera_name"))
            .join(footage_request_camera, footage_request_camera.c.request_id == footage_request.c.id)
            .join(camera, camera.c.pk == footage_request_camera.c.camera_pk)
            .where(footage_request_camera.c.owner_id == owner_id)
            .order_by(footage_request.c.created_at.desc())
        ))

    def owner_target(self, owner_id: str, request_id: str, camera_id: str, *, for_update: bool = False):
        """The owner's answer row; `for_update` locks it (PostgreSQL) so two answers cannot interleave."""
        q = (
            select(footage_request_camera, footage_request.c.agency_id, footage_request.c.case_number,
                   footage_request.c.purpose, camera.c.id.label("camera_id"))
            .join(footage_request, footage_request.c.id == footage_request_camera.c.request_id)
            .join(camera, camera.c.pk == footage_request_camera.c.camera_pk)
            .where(footage_request_camera.c.request_id == request_id, camera.c.id == camera_id,
                   footage_request_camera.c.owner_id == owner_id)
        )
        if for_update:
            q = q.with_for_update(of=footage_request_camera)
        return self.conn.execute(q).first()

    def set_answer(self, request_id: str, camera_pk: int, answer: str, note: str | None, at: datetime) -> None:
        self.conn.execute(update(footage_request_camera).where(
            footage_request_camera.c.request_id == request_id, footage_request_camera.c.camera_pk == camera_pk,
        ).values(answer=answer, note=note, answered_at=at))

    def add_evidence(self, **values) -> None:
        self.conn.execute(insert(evidence_item).values(**values))

    def evidence_for_case(self, agency_id: str, case_number: str) -> list:
        return list(self.conn.execute(
            select(evidence_item, camera.c.id.label("camera_id"), camera.c.name.label("camera_name"))
            .join(camera, camera.c.pk == evidence_item.c.camera_pk)
            .where(evidence_item.c.agency_id == agency_id, evidence_item.c.case_number == case_number)
            .order_by(evidence_item.c.uploaded_at)
        ))

    def evidence_item(self, agency_id: str, item_id: str):
        return self.conn.execute(select(evidence_item).where(
            evidence_item.c.id == item_id, evidence_item.c.agency_id == agency_id)).first()
