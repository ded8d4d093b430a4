"""Retention's pure rules on the hub: cutoffs per agency, the clock check, orphans, and the report an agency sees."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from openrtcc.domain.errors import InvalidInput
from openrtcc.domain.governance import AgencyGovernance
from openrtcc.domain.retention import (
    AgencyDeletion,
    RetentionReport,
    agency_of_key,
    check_clock,
    orphan_candidates,
    plan_hub_expiry,
    unreferenced,
    validate_case_number,
    validate_reason,
)

NOW = datetime(2026, 11, 20, 15, 0, tzinfo=UTC)
H = timedelta(hours=1)
JUMP = timedelta(hours=36)


def test_each_agency_expires_at_its_own_window_and_never_past_thirty_days():
    gov = {"a": AgencyGovernance("a", retention_days=7), "c": AgencyGovernance("c", retention_days=400)}
    plan = plan_hub_expiry(["c", "b", "a"], gov, NOW)
    assert [(c.agency_id, c.retention_days) for c in plan.agencies] == [("a", 7), ("b", 30), ("c", 30)]
    assert plan.for_agency("a").cutoff == NOW - timedelta(days=7)
    assert plan.hub_cutoff == NOW - timedelta(days=7)  # hub-wide logs: the strictest window
    assert plan.partition_cutoff == NOW - timedelta(days=30)  # a partition goes once every agency is past it
    assert plan.access_log_cutoff == NOW - timedelta(days=365)
    assert plan_hub_expiry([], {}, NOW).partition_cutoff is None


@pytest.mark.parametrize(("now", "last", "newest", "status"), [
    (NOW, None, None, "ok"),  # the very first purge
    (NOW, NOW - H, NOW - H, "ok"),
    (NOW, NOW - JUMP, NOW, "ok"),  # exactly the allowed gap
    (NOW, NOW - JUMP - timedelta(seconds=1), NOW, "jumped_forward"),
    (NOW + timedelta(days=31), NOW, NOW, "jumped_forward"),
    (NOW - timedelta(seconds=1), NOW, None, "behind_last_run"),
    (NOW, None, NOW + H, "behind_stored"),  # first purge, but the clock is before what is stored
    (NOW - timedelta(days=40), NOW, NOW, "behind_last_run"),
])
def test_the_clock_check(now, last, newest, status):
    check = check_clock(now, last, newest, JUMP)
    assert check.status == status and check.ok == (status == "ok")
    assert (check.reason is None) == (status == "ok")


def test_orphans_are_only_files_older_than_the_grace_that_no_row_names():
    stored = [("reads/a/00/x.jpg", NOW - 2 * H), ("reads/a/00/y.jpg", NOW - timedelta(minutes=5)),
              ("tips/a/t.jpg", NOW + H)]  # a file from the "future" (a clock set back) is never an orphan
    assert orphan_candidates(stored, NOW) == ["reads/a/00/x.jpg"]
    assert unreferenced(["k2", "k1", "k1", "", "kept"], {"kept"}) == ["k1", "k2"]
    assert agency_of_key("evidence/agency-1/e.mp4") == "agency-1" and agency_of_key("stray.jpg") is None


@pytest.mark.parametrize("case", ["", " ", "../x", "a", "x" * 65, "2026 01", "-2026"])
def test_bad_case_numbers_are_refused(case):
    with pytest.raises(InvalidInput) as e:
        validate_case_number(case)
    assert e.value.code == "bad_case_number"


def test_reasons_are_trimmed_and_bounded():
    assert validate_reason("  court   order ") == "court order"
    for bad in (None, "ab", "x" * 301):
        with pytest.raises(InvalidInput):
            validate_reason(bad)


def test_an_agency_sees_only_its_own_part_of_a_report():
    report = RetentionReport(run_id="r", trigger="api", started_at=NOW, partitions_dropped=["plate_read_p20261019"],
                             orphan_files_unowned=2, agencies=[
                                 AgencyDeletion(agency_id="a", retention_days=30, cutoff=NOW, deleted={"plate_read": 3}),
                                 AgencyDeletion(agency_id="b", retention_days=7, cutoff=NOW, deleted={"plate_read": 5},
                                                files_deleted=2)],
                             hub_deleted={"outbox": 1})
    mine = report.for_agency("a")
    assert [a.agency_id for a in mine.agencies] == ["a"] and mine.partitions_dropped == ["plate_read_p20261019"]
    assert mine.hub_deleted == {}
    assert "b" not in [a.agency_id for a in mine.agencies] and mine.orphan_files_unowned == 0
    assert report.totals() == {"outbox": 1, "plate_read": 8, "files": 2}


def test_the_clock_jump_limit_is_never_shorter_than_the_schedule_explains(tmp_path):
    from openrtcc.config import Settings
    from openrtcc.retention_wiring import max_clock_jump

    assert max_clock_jump(Settings(data_dir=tmp_path)) == timedelta(hours=36)
    slow = Settings(data_dir=tmp_path, retention_interval_s=86400, retention_max_clock_jump_hours=24)
    assert max_clock_jump(slow) == timedelta(hours=49)
    assert max_clock_jump(Settings(data_dir=tmp_path, retention_interval_s=0)) == timedelta(hours=36)
