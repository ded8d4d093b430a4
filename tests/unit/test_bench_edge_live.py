"""The live-view benchmark's report: percentiles, the verdict against 2 s, and a run that could not measure."""

from __future__ import annotations

from datetime import UTC, datetime

from openrtcc.bench.clock_pattern import band_rows, clock_value, decode_clock_blocks, latency_ms
from openrtcc.bench.edge_live import SECTION_TITLE, LiveFigures, section

WHEN = datetime(2026, 11, 21, 17, 0, tzinfo=UTC)


def test_the_verdict_follows_the_95th_percentile():
    fast = LiveFigures(latencies_ms=[900.0 + i for i in range(100)], samples=102, unreadable=2, startup_s=1.5)
    slow = LiveFigures(latencies_ms=[900.0] * 90 + [2500.0] * 10, samples=100)
    assert fast.passed and not slow.passed
    text = section(fast, WHEN)
    assert text.startswith(SECTION_TITLE + "\n") and "| glass-to-glass p95 | 994 ms | <= 2,000 ms (HLS) | pass |" in text
    assert "| frames read / sampled | 100 / 102 |" in text
    assert "| FAIL |" in section(slow, WHEN)


def test_nothing_measured_is_no_pass():
    assert not LiveFigures().passed
    skipped = section(LiveFigures(skipped="/usr/bin/chromium is not installed"), WHEN)
    assert "Not measured: /usr/bin/chromium is not installed." in skipped and "pass" not in skipped


def test_the_sampled_band_reads_back_at_the_size_the_page_draws():
    """The page draws the 1280-wide frame 320 wide: the band still decodes to the sender's clock."""
    now_ns = 1_763_740_800_123 * 1_000_000
    full = band_rows(clock_value(now_ns))
    small = [row[::4] for row in full[::4]]  # 320 x 16, as the canvas holds it
    value = decode_clock_blocks(small)
    assert value == clock_value(now_ns) and latency_ms(value, now_ns + 850 * 1_000_000) == 850
