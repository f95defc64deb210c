"""Each check against a clean lake and against that lake with exactly one defect planted.

Every test plants one defect and asserts that its check, and no other, reports it, with the
scope (account, media offer, day) and severity the defect calls for.
"""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.quality import Inputs, resolve_checks, run_checks
from airflow_provider_fansly.quality.findings import Finding
from airflow_provider_fansly.quality.lake import LakeView
from airflow_provider_fansly.storage.delta import (
    FETCH_LOG_TABLE,
    MEDIA_STATS_TABLE,
    RESTATEMENTS_TABLE,
)
from airflow_provider_fansly.storage.location import Location
from tests.quality.planted import (
    ACCOUNTS,
    AS_OF,
    clean_lake,
    day,
    hourly_log,
    hourly_rows,
    log_row,
    restatement_row,
    stat_row,
    write,
)


def check(lake: Path, **kwargs: object) -> list[Finding]:
    """Every default check over the lake, as of ``AS_OF``, 28 days of history."""
    view = LakeView(Location.parse(str(lake)), DAY_MS, AS_OF - timedelta(days=28), AS_OF)
    expected = kwargs.pop("expected", None) or view.expected()
    inputs = Inputs(view, expected, kwargs.pop("start", None))  # type: ignore[arg-type]
    return run_checks(resolve_checks(None), inputs)


def problems(findings: list[Finding]) -> list[Finding]:
    return [f for f in findings if f.status != "passed"]


def where(f: Finding) -> tuple[str, str, str | None, str | None, date | None]:
    return (f.check_id, f.status, f.account_id, f.media_offer_id, f.day)


def scopes(findings: list[Finding]) -> list[tuple[str, str, str | None, str | None, date | None]]:
    return sorted(
        (f.check_id, f.status, f.account_id, f.media_offer_id, f.day) for f in problems(findings)
    )


def test_a_clean_lake_passes_every_check(tmp_path: Path) -> None:
    clean_lake(tmp_path)
    findings = check(tmp_path)
    assert problems(findings) == []
    assert sorted(f.check_id for f in findings) == sorted(
        ["completeness", "freshness", "volume_anomaly", "uniqueness", "invariants",
         "hourly_vs_daily", "restatement"]
    )  # fmt: skip


def test_a_missing_day_is_an_error_when_old_and_a_warning_when_young(tmp_path: Path) -> None:
    clean_lake(tmp_path, skip={("acct_a", "a2", day(10)), ("acct_b", "b1", day(2))})
    assert scopes(check(tmp_path)) == [
        ("completeness", "failed", "acct_a", "a2", day(10)),
        ("completeness", "warned", "acct_b", "b1", day(2)),  # 2 days old: its run may be going
    ]


def test_a_gone_media_offer_is_reported_apart_not_as_gaps(tmp_path: Path) -> None:
    gone = {("acct_a", "a3", day(n)) for n in (1, 2, 3)}
    clean_lake(tmp_path, skip=gone)
    write(tmp_path, FETCH_LOG_TABLE, [log_row(a, m, d, status="gone") for a, m, d in gone])
    (finding,) = problems(check(tmp_path))
    assert (finding.check_id, finding.status, finding.account_id, finding.media_offer_id) == (
        "completeness", "warned", "acct_a", "a3",
    )  # fmt: skip
    assert "gone" in finding.message


def test_a_stale_account_fails_freshness(tmp_path: Path) -> None:
    stale = {("acct_b", m, day(n)) for m in ACCOUNTS["acct_b"] for n in range(1, 6)}
    clean_lake(tmp_path, skip=stale)
    findings = problems(check(tmp_path))
    (fresh,) = [f for f in findings if f.check_id == "freshness"]
    assert (fresh.account_id, fresh.status, fresh.observed) == ("acct_b", "failed", 5.0)
    # its missing days are gaps too, each with its age's severity; nothing else fires
    assert {f.check_id for f in findings} == {"freshness", "completeness"}
    assert {f.day for f in findings if f.check_id == "completeness"} == {
        day(n) for n in range(1, 6)
    }


def test_a_zero_day_after_an_active_fortnight_is_a_drop(tmp_path: Path) -> None:
    clean_lake(tmp_path, skip={("acct_a", m, day(1)) for m in ACCOUNTS["acct_a"]})
    zeros = [
        stat_row("acct_a", m, day(1), k, views=0, unique_viewers=0, interaction_time_ms=0)
        for m in ACCOUNTS["acct_a"] for k in (0, 1, 2)
    ]  # fmt: skip
    write(tmp_path, MEDIA_STATS_TABLE, zeros)
    write(tmp_path, FETCH_LOG_TABLE, [log_row("acct_a", m, day(1)) for m in ACCOUNTS["acct_a"]])
    (finding,) = problems(check(tmp_path))
    assert (finding.check_id, finding.status, finding.account_id, finding.day) == (
        "volume_anomaly", "warned", "acct_a", day(1),
    )  # fmt: skip
    assert finding.message.startswith("drop: views 0") and finding.observed < -6


def test_a_spike_is_flagged_with_its_z_score_and_baseline(tmp_path: Path) -> None:
    clean_lake(tmp_path, skip={("acct_b", "b2", day(3))})
    write(
        tmp_path,
        MEDIA_STATS_TABLE,
        [stat_row("acct_b", "b2", day(3), k, views=5000) for k in (0, 1, 2)],
    )
    write(tmp_path, FETCH_LOG_TABLE, [log_row("acct_b", "b2", day(3))])
    (finding,) = problems(check(tmp_path))
    assert (finding.check_id, finding.account_id, finding.day) == (
        "volume_anomaly",
        "acct_b",
        day(3),
    )
    assert finding.message.startswith("spike: views") and finding.observed > 6
    assert {s["metric"] for s in finding.sample} == {"views", "rows"}


def test_a_row_repeated_in_another_file_breaks_uniqueness(tmp_path: Path) -> None:
    clean_lake(tmp_path)
    write(tmp_path, MEDIA_STATS_TABLE, [stat_row("acct_a", "a1", day(7), 1)])  # a second commit
    (finding,) = problems(check(tmp_path))
    assert where(finding) == (
        "uniqueness", "failed", "acct_a", "a1", day(7),
    )  # fmt: skip
    assert finding.observed == 1.0


def test_a_broken_rule_in_the_table_breaks_invariants(tmp_path: Path) -> None:
    clean_lake(tmp_path, skip={("acct_a", "a5", day(4))})
    bad = [stat_row("acct_a", "a5", day(4), k, unique_viewers=500) for k in (0, 1, 2)]
    write(tmp_path, MEDIA_STATS_TABLE, bad)
    write(tmp_path, FETCH_LOG_TABLE, [log_row("acct_a", "a5", day(4))])
    (finding,) = problems(check(tmp_path))
    assert where(finding) == (
        "invariants", "failed", "acct_a", "a5", day(4),
    )  # fmt: skip
    assert "unique_viewers <= views" in finding.message and finding.observed == 3.0


def test_hourly_numbers_that_disagree_with_the_daily_ones_are_flagged(tmp_path: Path) -> None:
    clean_lake(tmp_path)
    write(tmp_path, MEDIA_STATS_TABLE, hourly_rows("acct_a", "a4", day(5)))  # agrees: not flagged
    write(tmp_path, MEDIA_STATS_TABLE, hourly_rows("acct_a", "a1", day(6), factor=1.3))
    write(tmp_path, FETCH_LOG_TABLE, [hourly_log("acct_a", "a4", day(5)),
                                      hourly_log("acct_a", "a1", day(6))])  # fmt: skip
    (finding,) = problems(check(tmp_path))
    assert where(finding) == (
        "hourly_vs_daily", "warned", "acct_a", "a1", day(6),
    )  # fmt: skip
    assert 0.25 < finding.observed < 0.35


def test_a_day_fetched_hourly_only_from_noon_is_not_compared_and_hides_nothing(
    tmp_path: Path,
) -> None:
    """An hourly backfill that starts at noon: a1's day holds 12 hours, so its hourly sums are
    half the daily ones; that is no disagreement. a2's day, all 24 hours fetched and 30% off
    the daily numbers, is still flagged."""
    afternoon = range(12, 24)
    clean_lake(tmp_path)
    write(tmp_path, MEDIA_STATS_TABLE, hourly_rows("acct_a", "a1", day(6), hours=afternoon))
    write(tmp_path, MEDIA_STATS_TABLE, hourly_rows("acct_a", "a2", day(6), factor=1.3))
    write(tmp_path, FETCH_LOG_TABLE, [hourly_log("acct_a", "a1", day(6), afternoon),
                                      hourly_log("acct_a", "a2", day(6))])  # fmt: skip
    findings = [f for f in check(tmp_path) if f.check_id == "hourly_vs_daily"]
    assert [where(f) for f in problems(findings)] == [
        ("hourly_vs_daily", "warned", "acct_a", "a2", day(6)),
    ]
    clean = tmp_path / "clean"
    clean_lake(clean)
    write(clean, MEDIA_STATS_TABLE, hourly_rows("acct_a", "a1", day(6), hours=afternoon))
    write(clean, MEDIA_STATS_TABLE, hourly_rows("acct_a", "a2", day(7)))
    write(clean, FETCH_LOG_TABLE, [hourly_log("acct_a", "a1", day(6), afternoon),
                                   hourly_log("acct_a", "a2", day(7))])  # fmt: skip
    (passed,) = [f for f in check(clean) if f.check_id == "hourly_vs_daily"]
    assert passed.status == "passed"
    assert passed.message.startswith("1 media offer day(s) with all 24 hours fetched agree")
    assert "1 day(s) fetched hourly only in part were not compared" in passed.message


def test_a_restated_week_is_reported_per_day_with_its_age(tmp_path: Path) -> None:
    clean_lake(tmp_path)
    week = [restatement_row("acct_a", "a1", day(n), 1000, 1300, age=2) for n in range(8, 15)]
    small = [restatement_row("acct_b", "b1", day(n), 1000, 1010, age=1) for n in range(8, 15)]
    write(tmp_path, RESTATEMENTS_TABLE, week + small)
    findings = problems(check(tmp_path))
    assert scopes(findings) == [
        ("restatement", "warned", "acct_a", "a1", day(n)) for n in range(14, 7, -1)
    ]
    assert all(f.observed == pytest.approx(0.3) and "2 day(s) later" in f.message for f in findings)


def test_a_new_deployment_is_not_alarmed_about_history_it_never_fetched(tmp_path: Path) -> None:
    recent = {(a, m, day(n)) for a, ids in ACCOUNTS.items() for m in ids for n in range(4, 29)}
    clean_lake(tmp_path, skip=recent)  # only the last three days were ever fetched
    findings = check(tmp_path)
    assert problems(findings) == []
    # a configured start earlier than the first fetch does judge the days before it
    started = check(tmp_path, start=day(5))
    assert {(f.check_id, f.day) for f in problems(started)} == {
        ("completeness", day(5)), ("completeness", day(4)),
    }  # fmt: skip
