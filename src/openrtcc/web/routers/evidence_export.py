"""A case's evidence package (BagIt, SHA-256 manifests, signed), as a zip download."""

from __future__ import annotations

import tempfile

from fastapi import APIRouter
from fastapi.responses import StreamingResponse

from openrtcc.adapters.storage.bag_files import ZipBagWriter, bag_name
from openrtcc.services import evidence_export
from openrtcc.services.hub import Actor, Hub
from openrtcc.web.deps import AgencyActor, HubDep
from openrtcc.web.file_download import file_chunks

router = APIRouter(prefix="/api/evidence", tags=["evidence"])
SPOOL_BYTES = 8 * 1024 * 1024  # small packages stay in memory; clips spill to a temporary file


@router.get("/cases/{case_number:path}/export", response_class=StreamingResponse,
            responses={200: {"content": {"application/zip": {}}, "description": "the signed BagIt package"}})
def export_case(case_number: str, actor: AgencyActor, hub: HubDep) -> StreamingResponse:
    """Case numbers may hold '/' (LP/2026/0042): the path takes everything up to /export. The package is built
    and its export audited before the first byte is sent, so a failure is a clear error, never a cut-off zip."""
    name, package, summary = _build(hub, actor, case_number)
    return StreamingResponse(file_chunks(package), media_type="application/zip", headers={
        "Content-Disposition": f'attachment; filename="{name}.zip"', "X-Manifest-SHA256": summary.manifest_sha256,
        "X-Key-Id": summary.key_id, "X-Export-Id": summary.export_id})


def _build(hub: Hub, actor: Actor, case_number: str):
    name = bag_name(case_number.strip(), hub.clock.now().strftime("%Y-%m-%d"))
    package = tempfile.SpooledTemporaryFile(max_size=SPOOL_BYTES)
    try:
        with ZipBagWriter(package, name) as writer:
            summary = evidence_export.export_case(hub, actor, case_number, writer)
    except BaseException:
        package.close()
        raise
    package.seek(0)
    return name, package, summary
