"""The dissemination and wall benchmarks' arithmetic and sections: receipts paired with the deliveries they
belong to (by delivery id, else in order of hand-over per subscriber), per-notice completion, fan-out; the
wall's verdict and section, written beside the results file's other sections."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from openrtcc.bench.dissemination_figures import DeliveryRow, DisseminationFigures, tally
from openrtcc.bench.report import replace_section
from openrtcc.bench.video_wall_report import SECTION_TITLE, TileFigures, WallFigures, section

T0 = datetime(2026, 11, 21, 20, 0, tzinfo=UTC)


def _row(i, sub, channel, notice, handed_ms, status="sent", kind="alert"):
    handed = T0 + timedelta(milliseconds=handed_ms) if handed_ms is not None else None
    return DeliveryRow(i, sub, channel, status, 1, handed, notice, kind, T0, T0 + timedelta(milliseconds=50))


def test_receipts_pair_by_delivery_id_or_in_hand_over_order_and_notices_complete_when_all_are_handed():
    rows = [_row(1, "s-hook", "webhook", "n1", 200), _row(2, "s-mail", "email", "n1", 300),
            _row(3, "s-mail", "email", "n2", 600), _row(4, "s-sms", "sms", "n2", None, status="failed"),
            _row(5, "s-push", "push", "n3", None, status="suppressed", kind="incident")]
    at = T0.timestamp()
    receipts = [("webhook", "7", at + 0.25, 1),  # named by its delivery id: the path key does not matter
                ("email", "b@x.example", at + 0.7, None), ("email", "b@x.example", at + 0.4, None),
                ("email", "stranger@x.example", at + 0.5, None)]
    f = DisseminationFigures()
    tally(f, rows, receipts, {"email:b@x.example": "s-mail"})
    assert f.channels["webhook"].received_ms == [250.0]
    assert f.channels["email"].handed_ms == [300.0, 600.0]
    assert [round(v) for v in f.channels["email"].received_ms] == [400, 700]  # earliest receipt: first handed
    assert f.channels["email"].unmatched_receipts == 1
    assert f.complete_ms == [300.0]  # n1 only: n2 has a failed delivery; n3 had nothing handed
    assert f.notices == {"alert": 2, "incident": 1} and f.fan_out("alert") == 2.0
    assert f.status_total("failed") == 1 and f.status_total("suppressed") == 1
    assert f.all_handed_ms() == [200.0, 300.0, 600.0]


def _wall(fps: list[float]) -> WallFigures:
    f = WallFigures(tiles=len(fps), seconds=10, tiles_playing=len(fps), all_playing_s=4.2,
                    first_play_s=[2.0] * len(fps), latency_ms=[900.0, 1100.0, 1500.0], clock_samples=4,
                    cpu_s={"hub": 2.0, "edge box": 12.0}, window_s=10.0, wall_s=60.0)
    f.per_tile = [TileFigures(f"cam-{i}", v, 1, 0, 1.0, "live") for i, v in enumerate(fps)]
    return f


def test_the_wall_passes_only_when_every_tile_plays_at_10_fps_and_its_section_keeps_the_others(tmp_path):
    assert _wall([12.0] * 16).passed
    assert not _wall([12.0] * 15 + [9.0]).passed
    slow = _wall([12.0] * 16)
    slow.all_playing_s = None
    assert not slow.passed

    results = tmp_path / "benchmarks.md"
    results.write_text("# Benchmarks\n\n## Registry (rtcc bench registry)\n\nkept as it was\n")
    replace_section(results, SECTION_TITLE, section(_wall([11.0] * 8 + [12.5] * 8)))
    replace_section(results, SECTION_TITLE, section(_wall([12.0] * 16)))  # a second run replaces the first
    text = results.read_text()
    assert "kept as it was" in text and text.count(SECTION_TITLE) == 1
    assert "| Incident opened -> all 16 tiles playing | 4.2 s |" in text
    assert "12.0 / 12.0 / 12.0 fps | >= 10 fps each | PASS |" in text
    assert "edge box 120%" in text and "1,100 / 1,500 / 1,500 ms" in text
    assert "wall to 4x4" in text
    assert "| Clock tile: frames decoded per second, playback speed, stalls | — |" in text  # no clock tile named
    clocked = _wall([12.0] * 15 + [9.0])
    clocked.clock_camera = "cam-15"
    assert "| Clock tile: frames decoded per second, playback speed, stalls | 9.0 fps, 1.00, 0 |" in section(clocked)

    skipped = WallFigures(skipped="/usr/bin/chromium is not installed")
    assert "Not measured: /usr/bin/chromium is not installed." in section(skipped)
