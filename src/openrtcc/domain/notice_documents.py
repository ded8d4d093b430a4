"""A Notice as it is stored (the notice row's JSON document) and read back for a retry."""

from __future__ import annotations

from datetime import datetime

from openrtcc.domain.dissemination import Audience, Notice, NoticeKind


def notice_document(n: Notice) -> dict:
    return {"kind": n.kind.value, "change": n.change, "source_id": n.source_id, "category": n.category,
            "priority": n.priority, "lat": n.lat, "lon": n.lon, "occurred_at": n.occurred_at.isoformat(),
            "title": n.title, "body": n.body, "police": n.police, "before": n.before, "radius_m": n.radius_m,
            "audiences": sorted(a.value for a in n.audiences) if n.audiences is not None else None}


def notice_of(notice_id: str, agency_id: str, doc: dict) -> Notice:
    audiences = doc.get("audiences")
    return Notice(notice_id, agency_id, NoticeKind(doc["kind"]), doc["change"], doc.get("source_id"),
                  doc["category"], doc["priority"], doc.get("lat"), doc.get("lon"),
                  datetime.fromisoformat(doc["occurred_at"]), doc["title"], doc.get("body"), doc.get("police") or {},
                  doc.get("before"), frozenset(Audience(a) for a in audiences) if audiences is not None else None,
                  doc.get("radius_m") or 0.0)
