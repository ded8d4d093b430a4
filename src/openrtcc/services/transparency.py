"""The public transparency portal (no log-in): each agency's cameras, plate reading, hot lists, retention, who has
access, searches by purpose, alert outcomes and policy, generated from the live configuration and audit data,
and a public view of its audit trail with people pseudonymised. Answers are cached briefly and each client is
held to a budget, so a crawler cannot load the database."""

from __future__ import annotations

import re
from collections.abc import Callable
from datetime import datetime, timedelta

from openrtcc.domain.audit import AuditEntry, canonical_at
from openrtcc.domain.errors import NotFound
from openrtcc.domain.governance import AUDIT_RETENTION_DAYS, AgencyGovernance
from openrtcc.domain.public_forms import audit_source
from openrtcc.domain.search_purposes import PURPOSE_BY_CODE
from openrtcc.domain.transparency import (
    ALERT_STATUSES,
    MAX_AUDIT_PAGE,
    WINDOW_DAYS,
    AccessFigures,
    AccessGrant,
    AgencyRef,
    AlertFigures,
    CameraFigures,
    CameraReadShare,
    HotListSource,
    PlateReadingFigures,
    PublicAuditRecord,
    PurposeCount,
    SearchFigures,
    SearchRules,
    TransparencyReport,
    misread_rate,
    public_audit_record,
)
from openrtcc.services.hub import Hub
from openrtcc.services.public_cache import admit_public, cached_answer

_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,63}$")
API = "/api/public/transparency"


def _published(hub: Hub, action: str, agency_id: str | None, client: str | None, **details) -> None:
    """Each build of a public answer is recorded (not each cached copy: that would let a crawler write rows)."""
    with hub.uow() as uow:
        uow.record(AuditEntry(action, "success", None, agency_id, f"agency:{agency_id}" if agency_id else None,
                              audit_source(hub.secret_key, client), details))
        uow.commit()


def _unknown(hub: Hub, action: str, client: str | None) -> None:
    """An unknown agency asked for: recorded once per cached refusal (the name asked for is not kept)."""
    with hub.uow() as uow:
        uow.record(AuditEntry(action, "failed", None, None, None, audit_source(hub.secret_key, client),
                              {"code": "agency_not_found"}))
        uow.commit()


def links(slug: str) -> dict[str, str]:
    return {"json": f"{API}/{slug}", "csv": f"{API}/{slug}.csv", "audit": f"{API}/{slug}/audit",
            "page": f"/transparency/{slug}", "anchors": "/api/public/audit/anchors",
            "public_key": "/api/public/audit/public-key"}


def agencies(hub: Hub, client: str | None) -> list[dict]:
    """Every agency on the hub, with its kind and the links to its figures."""
    cache = admit_public(hub, client, "transparency:agencies")

    def build() -> list[dict]:
        with hub.uow().reading() as uow:
            rows = uow.accounts.agencies()
            kinds = {a: g.kind.value for a, g in uow.governance.all().items()}
        _published(hub, "transparency.agencies", None, client, count=len(rows))
        return [{"slug": a.slug, "name": a.name, "kind": kinds.get(a.id, "local"), "links": links(a.slug)}
                for a in sorted(rows, key=lambda a: a.name)]

    return cached_answer(cache, ("agencies",), build)


def _agency(uow, slug: str):
    """A slug that cannot be one is refused without a query."""
    return uow.accounts.agency_by_slug(slug) if _SLUG.match(slug) else None


def report(hub: Hub, slug: str, client: str | None,
           render: Callable[[TransparencyReport], str] | None = None) -> TransparencyReport | str:
    """The agency's report; `render` (e.g. to CSV) is applied once per build and cached with it, keyed apart."""
    cache = admit_public(hub, client, "transparency:report")

    def build():
        found = _build_report(hub, slug, client)
        return found if found is None or render is None else render(found)

    built = cached_answer(cache, ("report", slug, getattr(render, "__name__", "json")), build)
    if built is None:
        raise NotFound(f"no agency {slug[:64]!r} on this hub", code="agency_not_found")
    return built


def _build_report(hub: Hub, slug: str, client: str | None) -> TransparencyReport | None:
    now = hub.clock.now()
    since = now - timedelta(days=WINDOW_DAYS)
    with hub.uow().reading() as uow:
        ag = _agency(uow, slug)
        if ag is not None:
            g = uow.governance.get(ag.id)
            figures = _figures(uow.transparency, ag.id, now, since)
    if ag is None:
        _unknown(hub, "transparency.report", client)
        return None
    _published(hub, "transparency.report", ag.id, client)
    return TransparencyReport(
        agency=AgencyRef(slug=ag.slug, name=ag.name, kind=g.kind.value), generated_at=canonical_at(now),
        window_days=WINDOW_DAYS, retention_days=g.retention_days, audit_retention_days=AUDIT_RETENTION_DAYS,
        search_rules=_rules(g), policy_text=g.policy_text, links=links(ag.slug), **figures)


def _figures(repo, agency_id: str, now: datetime, since: datetime) -> dict:
    by_tier, by_status, edged = repo.cameras(agency_id)
    sources, revoked = repo.read_sources(agency_id)
    reads, cameras_reading = repo.reads_since(agency_id, since)
    lists = [HotListSource(name=r.name, format=r.format, entries=r.entry_count, refreshed_at=_at(r.refreshed_at))
             for r in repo.hot_lists(agency_id)]
    lists += [HotListSource(name=r.name, format=r.format, entries=r.entry_count, refreshed_at=_at(r.refreshed_at),
                            shared_from=r.source) for r in repo.shared_in_lists(agency_id, now)]
    grants = [AccessGrant(agency=r.recipient, agency_kind=r.kind, data_kind=r.data_kind,
                          purposes=sorted(r.purposes or []), expires_at=canonical_at(r.expires_at))
              for r in repo.live_grants_given(agency_id, now)]
    shares = [CameraReadShare(agency=name, cameras=n) for name, n in sorted(repo.camera_read_shares(agency_id).items())]
    return {
        "cameras": CameraFigures(active=sum(by_tier.values()), by_tier=by_tier, by_status=by_status,
                                 with_edge_box=edged),
        "plate_reading": PlateReadingFigures(sources_by_kind=sources, sources_revoked=revoked,
                                             cameras_with_reads=cameras_reading, reads=reads),
        "hot_lists": lists,
        "access": AccessFigures(grants=grants, camera_read_shares=shares, staff_by_role=repo.staff_by_role(agency_id)),
        "searches": _searches(repo, agency_id, since),
        "alerts": _alerts(repo, agency_id, since),
    }


def _searches(repo, agency_id: str, since: datetime) -> SearchFigures:
    done: dict[str, int] = {}
    refused: dict[str, int] = {}
    by_kind: dict[str, int] = {}
    for purpose, kind, outcome, n in repo.searches_since(agency_id, since):
        bucket = done if outcome == "done" else refused
        bucket[purpose] = bucket.get(purpose, 0) + n
        if outcome == "done":
            by_kind[kind] = by_kind.get(kind, 0) + n
    by_purpose = [PurposeCount(purpose=code, label=PURPOSE_BY_CODE[code].label if code in PURPOSE_BY_CODE else code,
                               done=done.get(code, 0), refused=refused.get(code, 0))
                  for code in sorted(set(done) | set(refused))]
    return SearchFigures(by_purpose=by_purpose, by_kind=by_kind, total=sum(done.values()),
                         audited=repo.audited_searches_since(agency_id, since))


def _alerts(repo, agency_id: str, since: datetime) -> AlertFigures:
    recent = _add(repo.alerts_by_status(agency_id, since), repo.tallied_by_status(agency_id, since.strftime("%Y-%m-%d")))
    ever = _add(repo.alerts_by_status(agency_id, None), repo.tallied_by_status(agency_id, None))
    return AlertFigures(by_status=recent, misread_rate=misread_rate(recent), all_time_by_status=ever,
                        all_time_misread_rate=misread_rate(ever))


def _add(live: dict[str, int], tallied: dict[str, int]) -> dict[str, int]:
    """Live alerts plus the tallies of expired ones: retention tallies an alert, then deletes it, so none counts twice."""
    return {s: live.get(s, 0) + tallied.get(s, 0) for s in ALERT_STATUSES}


def _rules(g: AgencyGovernance) -> SearchRules:
    return SearchRules(prohibited_purposes=sorted(PURPOSE_BY_CODE[c].label for c in g.prohibited_purposes
                                                  if c in PURPOSE_BY_CODE),
                       camera_limit=g.search_camera_limit, repeat_search_threshold=g.repeat_search_threshold,
                       repeat_search_window_hours=int(g.repeat_search_window / timedelta(hours=1)))


def _at(value: datetime | None) -> str | None:
    return canonical_at(value) if value else None


def audit_view(hub: Hub, slug: str, client: str | None, limit: int = 100, before: int | None = None,
               render: Callable[[list[PublicAuditRecord]], str] | None = None) -> list[PublicAuditRecord] | str:
    """The agency's recent audit records, newest first, as the public may see them (`render`: as for report)."""
    limit = max(1, min(limit, MAX_AUDIT_PAGE))
    cache = admit_public(hub, client, "transparency:audit")

    def build() -> list[PublicAuditRecord] | None:
        with hub.uow().reading() as uow:
            ag = _agency(uow, slug)
            rows = uow.audit.list_for_agency(ag.id, limit, before) if ag is not None else []
        if ag is None:
            _unknown(hub, "transparency.audit_view", client)
            return None
        _published(hub, "transparency.audit_view", ag.id, client, count=len(rows))
        records = [public_audit_record(hub.secret_key, r) for r in rows]
        return records if render is None else render(records)

    built = cached_answer(cache, ("audit", slug, limit, before, getattr(render, "__name__", "json")), build)
    if built is None:
        raise NotFound(f"no agency {slug[:64]!r} on this hub", code="agency_not_found")
    return built
