"""The hub's in-memory live segments: how many are kept, the byte budget over all sessions, re-sent and late
segments, and the playlist players read (numbering kept across a lost segment)."""

from __future__ import annotations

from datetime import UTC, datetime

import pytest

from openrtcc.services.live_segments import LiveBufferFull, LiveMeta, LiveSegments, Segment, render_playlist

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)


def _meta(sid: str = "s1") -> LiveMeta:
    return LiveMeta(sid, "cam", "edge", "agency", "user", "0" * 64)


def test_keeps_the_newest_segments_and_counts_their_bytes():
    segs = LiveSegments(keep=3, max_total_bytes=10_000)
    segs.open(_meta(), NOW)
    segs.put_init("s1", b"i" * 10, NOW)
    for seq in range(5):
        segs.put_segment("s1", Segment(seq, 0.5, b"x" * 100), NOW)
    buf = segs.get("s1")
    assert [s.seq for s in buf.segments] == [2, 3, 4]
    assert segs.total_bytes == 10 + 300
    segs.put_segment("s1", Segment(3, 0.5, b"y" * 50), NOW)  # a re-sent segment replaces its copy
    assert [s.seq for s in buf.segments] == [2, 3, 4] and buf.segment(3).data == b"y" * 50
    assert segs.total_bytes == 10 + 250
    segs.put_segment("s1", Segment(0, 0.5, b"z" * 100), NOW)  # far too late for any player: ignored
    assert [s.seq for s in buf.segments] == [2, 3, 4]
    segs.drop("s1")
    assert segs.total_bytes == 0 and segs.get("s1") is None


def test_the_budget_over_all_sessions_refuses_and_keeps_what_it_has():
    segs = LiveSegments(keep=10, max_total_bytes=1_000)
    segs.open(_meta("a"), NOW)
    segs.open(_meta("b"), NOW)
    segs.put_segment("a", Segment(0, 0.5, b"x" * 600), NOW)
    with pytest.raises(LiveBufferFull):
        segs.put_segment("b", Segment(0, 0.5, b"x" * 600), NOW)
    assert len(segs.get("b").segments) == 0 and segs.total_bytes == 600
    segs.drop("a")
    segs.put_segment("b", Segment(0, 0.5, b"x" * 600), NOW)  # room again once a session ended
    assert segs.total_bytes == 600


def test_playlist_is_live_fmp4_with_blocking_reload_and_gaps_keep_numbering():
    segs = LiveSegments(keep=10)
    buf = segs.open(_meta(), NOW)
    assert "#EXT-X-MAP" not in render_playlist(buf) and "#EXT-X-MEDIA-SEQUENCE:0" in render_playlist(buf)
    segs.put_init("s1", b"init", NOW)
    for seq in (4, 5, 7):  # 6 was lost on the way
        segs.put_segment("s1", Segment(seq, 0.52, b"x"), NOW)
    text = render_playlist(buf)
    assert text.startswith("#EXTM3U\n#EXT-X-VERSION:7\n#EXT-X-TARGETDURATION:1\n")
    assert "#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES" in text and "#EXT-X-ENDLIST" not in text
    assert '#EXT-X-MAP:URI="init.mp4"' in text
    assert "#EXT-X-MEDIA-SEQUENCE:4" in text
    body = [line for line in text.splitlines() if line.startswith(("segments/", "#EXT-X-GAP"))]
    assert body == ["segments/4.m4s", "segments/5.m4s", "#EXT-X-GAP", "segments/6.m4s", "segments/7.m4s"]
    assert text.count("#EXTINF:0.520,") == 4
    polled = render_playlist(buf, can_block=False)  # a wall tile's: players poll, none holds a connection
    assert "SERVER-CONTROL" not in polled and polled.replace("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n", "") \
        == text.replace("#EXT-X-SERVER-CONTROL:CAN-BLOCK-RELOAD=YES\n", "")
