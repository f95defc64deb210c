"""MediaStatsQualityOperator through Airflow: results table, XCom, asset event, failing."""

from __future__ import annotations

import json
from datetime import date
from pathlib import Path

import pytest
from deltalake import DeltaTable
from fansly_quality_probe import build_dag

from airflow_provider_fansly.assets import QUALITY_RESULTS
from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE
from tests.conftest import LogText
from tests.quality.planted import ACCOUNTS, AS_OF, clean_lake, day, stat_row, write

pytestmark = pytest.mark.usefixtures("airflow_db")


def _results(lake: Path) -> list[dict[str, object]]:
    return DeltaTable(str(lake / "quality_results")).to_pyarrow_table().to_pylist()


def _events(run_id: str) -> list[tuple[str, dict[str, object], set[str]]]:
    from airflow.models.asset import AssetEvent, AssetModel
    from airflow.utils.session import create_session
    from sqlalchemy import select

    with create_session() as session:
        events = session.scalars(
            select(AssetEvent)
            .join(AssetModel, AssetEvent.asset_id == AssetModel.id)
            .where(AssetEvent.source_run_id == run_id)
        ).all()
        return [(e.asset.uri, e.extra, {a.name for a in e.source_aliases}) for e in events]


def test_a_clean_lake_passes_and_its_results_land_everywhere(tmp_path: Path, logs: LogText) -> None:
    clean_lake(tmp_path)
    run = build_dag(output_path=str(tmp_path), as_of=str(AS_OF)).test()
    assert run.state == "success"
    (ti,) = run.get_task_instances()
    summary = ti.xcom_pull(task_ids="quality")
    assert summary["counts"] == {"passed": 7, "warned": 0, "failed": 0}
    assert summary["as_of"] == str(AS_OF) and set(summary["checks"]) >= {"restatement"}
    rows = _results(tmp_path)
    assert len(rows) == 7 and {r["status"] for r in rows} == {"passed"}
    assert {r["run_id"] for r in rows} == {run.run_id}
    ((uri, extra, aliases),) = _events(run.run_id)
    assert uri == (tmp_path / "quality_results").as_uri() and aliases == {QUALITY_RESULTS.name}
    assert extra == {"passed": 7, "warned": 0, "failed": 0}
    assert "PASSED  completeness" in logs()


def test_an_error_finding_fails_the_task_after_recording_everything(
    tmp_path: Path, logs: LogText
) -> None:
    clean_lake(tmp_path, skip={("acct_a", "a2", day(10))})
    expected = json.dumps(ACCOUNTS)
    run = build_dag(output_path=str(tmp_path), as_of=str(AS_OF), expected=expected).test()
    assert run.state == "failed"
    rows = _results(tmp_path)
    (gap,) = [r for r in rows if r["status"] != "passed"]
    scope = ("check_id", "status", "account_id", "media_offer_id", "dt")
    assert tuple(gap[k] for k in scope) == (
        "completeness", "failed", "acct_a", "a2", day(10),
    )  # fmt: skip
    text = logs()
    assert "1 quality finding(s) failed: completeness [acct_a / a2 / 2026-02-19]" in text
    # failures come first in the report, with what to do
    report = text[text.index("Quality of") :]
    assert report.index("FAILED  completeness") < report.index("PASSED")
    assert "-> backfill 2026-02-19" in report
    (ti,) = run.get_task_instances()
    assert ti.try_number == 1  # not retried: the lake will not change by itself


def test_a_bad_argument_is_refused_by_name(tmp_path: Path, logs: LogText) -> None:
    run = build_dag(output_path=str(tmp_path), checks=["completeness", "speling"]).test()
    assert run.state == "failed"
    assert "unknown quality check 'speling'" in logs()


def test_a_triggered_run_is_judged_as_of_the_window_its_trigger_wrote() -> None:
    from types import SimpleNamespace

    from airflow_provider_fansly.operators.quality import _written_until

    def event(uri: str, before: int, period: int = DAY_MS) -> SimpleNamespace:
        extra = {"window": {"before": before}, "periods_ms": [period]}
        return SimpleNamespace(asset=SimpleNamespace(uri=uri), extra=extra)

    lake = "file:///lake/media_stats"
    d0 = 1_767_225_600_000  # 2026-01-01T00:00Z
    events = {"alias": [event(lake, d0 + 86_400_000), event("file:///other/media_stats", d0 * 2)]}
    assert _written_until({"triggering_asset_events": events}, lake, DAY_MS) == date(2026, 1, 2)
    assert _written_until({"triggering_asset_events": events}, "file:///none", DAY_MS) is None
    assert _written_until({}, lake, DAY_MS) is None
    # hourly data written: the daily check has nothing new (the operator then skips)
    assert _written_until({"triggering_asset_events": events}, lake, HOUR_MS) is None
    # a window ending inside a day counts that day
    inside = {"alias": [event(lake, d0 + 3_600_000, HOUR_MS)]}
    assert _written_until({"triggering_asset_events": inside}, lake, HOUR_MS) == date(2026, 1, 2)


def _run(lake: Path, **kwargs: object) -> tuple[str, dict[str, object]]:
    run = build_dag(output_path=str(lake), as_of=str(AS_OF), **kwargs).test()
    (ti,) = run.get_task_instances()
    summary = ti.xcom_pull(task_ids="quality") or {}
    return run.state, summary


def test_a_scheduled_run_judges_what_changed_and_an_audit_everything(tmp_path: Path) -> None:
    """The first run has no earlier version: a full pass. The next reads only the partition
    a commit changed since; a duplicate committed into an old day is found against the rest
    of that day; after a failure the next run is a full pass again, as an audit always is.
    Every run records the version it judged."""
    clean_lake(tmp_path)  # media_stats version 1 (0 made the table)
    state, first = _run(tmp_path)
    assert state == "success"
    assert first["scope"] == {"mode": "full", "table_version": 1, "since": None,
                              "partitions": None}  # fmt: skip
    write(tmp_path, MEDIA_STATS_TABLE, [stat_row("acct_a", "a9", day(1), 0)])  # version 2
    state, second = _run(tmp_path)
    assert state == "success"
    assert second["scope"] == {"mode": "incremental", "table_version": 2, "since": 1,
                               "partitions": 1}  # fmt: skip
    write(tmp_path, MEDIA_STATS_TABLE, [stat_row("acct_b", "b2", day(20), 1)])  # a copy: 3
    state, third = _run(tmp_path)
    assert state == "failed" and third == {}  # the task failed, after recording
    rows = _results(tmp_path)
    (copy,) = [r for r in rows if r["status"] == "failed"]
    assert (copy["check_id"], copy["media_offer_id"], copy["dt"]) == ("uniqueness", "b2", day(20))
    assert (copy["table_version"], copy["scope"]) == (3, "incremental")
    state, _ = _run(tmp_path, checks=["uniqueness", "invariants"])
    assert state == "failed"  # judged again in full until fixed
    earlier = {r["run_id"] for r in rows}
    fourth = [r for r in _results(tmp_path) if r["run_id"] not in earlier]
    assert {(r["scope"], r["table_version"]) for r in fourth} == {("full", 3)}
    state, audit = _run(tmp_path, checks=["invariants"], mode="audit")
    assert state == "success" and audit["scope"]["mode"] == "full"  # type: ignore[index]


def test_a_version_whose_log_was_cleaned_up_falls_back_to_a_full_pass(tmp_path: Path) -> None:
    from deltalake import DeltaTable

    from airflow_provider_fansly.quality.scope import changed_since
    from airflow_provider_fansly.storage.location import Location

    clean_lake(tmp_path)  # versions 0 and 1
    for n in (1, 2):  # versions 2 and 3
        write(tmp_path, MEDIA_STATS_TABLE, [stat_row("acct_a", f"n{n}", day(n), 0)])
    table = DeltaTable(str(tmp_path / "media_stats"))
    table.create_checkpoint()
    location = Location.parse(str(tmp_path))
    assert changed_since(location, table, 2).partitions == {(DAY_MS, day(2))}
    for old in range(3):  # as log clean-up does, the checkpoint of version 3 kept
        (tmp_path / "media_stats" / "_delta_log" / f"{old:020d}.json").unlink()
    fallback = changed_since(location, DeltaTable(str(tmp_path / "media_stats")), 2)
    assert (fallback.mode, fallback.partitions, fallback.version) == ("full", None, 3)
