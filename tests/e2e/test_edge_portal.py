"""The owner portal's edge parts in a real browser: a code generated and shown once, a box enrolled with it
(over the box's API), listed; a camera linked to it, plate reads shared, a privacy mask drawn on the canvas
and stored as fractions; both access logs side by side; the box revoked."""

from __future__ import annotations

import uuid

import httpx
import pytest

from tests.conftest import camera_body
from tests.e2e.conftest import log_on, new_owner

pytestmark = [pytest.mark.slow, pytest.mark.browser]


def test_owner_enrols_a_box_links_a_camera_and_draws_a_mask(page, live_hub):
    base = live_hub.base_url
    email, owner = new_owner(live_hub, "Edna")
    name = f"Edge porch {uuid.uuid4().hex[:4]}"
    r = owner.post("/api/owner/cameras", json=camera_body(live_hub.agency_id, name=name, tier="integrated",
                                                          sharing={"mode": "always", "share_live": True}))
    assert r.status_code == 201, r.text
    cam_id = r.json()["id"]
    log_on(page, base, email)
    page.wait_for_url(f"{base}/portal")

    page.get_by_label("Box name").fill("Garage box")
    page.get_by_role("button", name="Generate enrolment code").click()
    code = page.locator("#edge-code [data-code]").get_attribute("data-code")
    assert len(code.replace("-", "")) == 10 and f"rtcc edge enrol --code {code}" in page.locator("#edge-code").inner_text()
    enrolled = httpx.post(f"{base}/api/edge/enrol", json={"code": code, "name": "Garage box", "software_version": "0.9"})
    assert enrolled.status_code == 201, enrolled.text
    edge_id = enrolled.json()["edge_id"]

    page.reload()
    box_row = page.locator(f"#edge-list tr[data-edge-id='{edge_id}']")
    assert "Garage box" in box_row.inner_text() and "Not connected" in box_row.inner_text()

    page.locator(f"#camera-list tr[data-camera-id='{cam_id}']").get_by_role("button", name="Edge settings").click()
    dialog = page.locator("#edge-settings-dialog")
    dialog.get_by_label("Edge box that integrates this camera").select_option(edge_id)
    dialog.get_by_label("Emergency radius", exact=False).fill("400")
    dialog.get_by_label("Lakeport Police").check()
    canvas = page.locator("#mask-canvas").bounding_box()
    for fx, fy in ((0.1, 0.1), (0.5, 0.1), (0.5, 0.6)):
        page.mouse.click(canvas["x"] + fx * canvas["width"], canvas["y"] + fy * canvas["height"])
    dialog.get_by_role("button", name="Close mask").click()
    assert "Mask 1: 3 points" in page.locator("#mask-list").inner_text()
    dialog.screenshot(path="/tmp/rtcc-edge-settings.png")
    dialog.get_by_role("button", name="Save edge settings").click()
    dialog.wait_for(state="hidden")

    cam = owner.get(f"/api/owner/cameras/{cam_id}").json()
    assert cam["edge_id"] == edge_id
    assert cam["sharing"]["emergency_radius_m"] == 400 and cam["sharing"]["share_reads_with"] == [live_hub.agency_id]
    (mask,) = cam["sharing"]["privacy_masks"]
    assert [[round(x, 1), round(y, 1)] for x, y in mask] == [[0.1, 0.1], [0.5, 0.1], [0.5, 0.6]]
    assert cam["sharing"]["mode"] == "always" and cam["sharing"]["share_live"] is True  # the rest untouched

    page.locator(f"#camera-list tr[data-camera-id='{cam_id}']").get_by_role("button", name="Access log").click()
    page.locator("#edge-log-body").filter(has_text="The box has logged no access to this camera.").wait_for()
    page.locator("#access-log-dialog").get_by_role("button", name="Close").click()
    page.locator("#edges").screenshot(path="/tmp/rtcc-edge-boxes.png")

    page.locator(f"#edge-list tr[data-edge-id='{edge_id}']").get_by_role("button", name="Revoke").click()
    page.locator("#confirm-ok").click()
    page.locator(f"#edge-list tr[data-edge-id='{edge_id}']").filter(has_text="Revoked").wait_for()
    assert owner.get("/api/owner/edges").json()[0]["revoked"] is True
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
    owner.close()


def test_a_camera_its_box_reports_offline_shows_offline_on_the_map(page, live_hub, admin_api, tmp_path):
    from tests.e2e.conftest import enrol_in_browser, new_agency_user
    from tests.edge_hub import EdgeHub, start_box, wait_for
    from openrtcc.domain.edge_protocol import CameraHealth, Health

    _, owner = new_owner(live_hub, "Otto")
    cams = [owner.post("/api/owner/cameras", json=camera_body(
        live_hub.agency_id, name=f"Otto {i}", tier="integrated", lat=43.01, lon=-87.9 + i * 0.001)).json()["id"]
        for i in range(2)]
    box = start_box(EdgeHub(live_hub.base_url, live_hub.hub, None), owner, tmp_path, cams)
    analyst = new_agency_user(admin_api, "analyst")
    try:
        assert box.link.send(Health(sent_at=box.clock.now(), cameras=[
            CameraHealth(camera_id=cams[0], online=False, error="no frames for 30 s"),
            CameraHealth(camera_id=cams[1], online=True, fps=15)]))
        wait_for(lambda: owner.get("/api/owner/edges").json()[0]["cameras"][0]["online"] is False, what="health")
        offline = set(admin_api.get("/api/agency/map/offline").json()["offline"])
        assert cams[0] in offline and cams[1] not in offline
        log_on(page, live_hub.base_url, analyst)
        enrol_in_browser(page)
        page.wait_for_url(f"{live_hub.base_url}/map")
        page.locator("body[data-map-ready='1']").wait_for(state="attached")
        assert f"{len(offline)} offline" in page.locator("#map-status").inner_text()
        assert "Offline (edge box)" in page.locator(".map-legend").inner_text()
        page.screenshot(path="/tmp/rtcc-map-offline.png")
    finally:
        box.stop()
        owner.close()


def test_a_supervisor_declares_and_ends_an_emergency_on_the_map(page, live_hub, admin_api):
    from tests.e2e.conftest import enrol_in_browser, new_agency_user

    supervisor = new_agency_user(admin_api, "supervisor")
    log_on(page, live_hub.base_url, supervisor)
    enrol_in_browser(page)
    page.wait_for_url(f"{live_hub.base_url}/map")
    page.locator("body[data-map-ready='1']").wait_for(state="attached")
    page.locator("#search-lat").fill("43.001")
    page.locator("#search-lon").fill("-87.921")
    page.get_by_role("button", name="Declare an emergency here").click()
    dialog = page.locator("#emergency-dialog")
    assert dialog.get_by_label("Latitude").input_value() == "43.001"
    dialog.get_by_label("Reason").fill("x")  # too short: the hub's refusal is shown beside the field
    dialog.get_by_role("button", name="Declare emergency").click()
    dialog.locator(".field-error").first.wait_for()
    dialog.get_by_label("Reason").fill("Shots fired near the harbour")
    dialog.get_by_label("Case number (optional)").fill("26-4411")
    dialog.get_by_role("button", name="Declare emergency").click()
    item = page.locator("#emergency-list li", has_text="Shots fired near the harbour")
    item.wait_for()
    (made,) = [e for e in admin_api.get("/api/emergencies").json() if e["active"]]
    assert (made["lat"], made["lon"], made["radius_m"], made["case_number"]) == (43.001, -87.921, 500, "26-4411")
    page.screenshot(path="/tmp/rtcc-map-emergency.png")
    item.get_by_role("button", name="End emergency").click()
    page.locator("#emergency-list").filter(has_text="No emergency is declared.").wait_for()
    assert not [e for e in admin_api.get("/api/emergencies").json() if e["active"]]
    assert [e for e in page.console_errors if not e.startswith("Failed to load resource")] == []
