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
from tests.conftest import LogText
from tests.quality.planted import ACCOUNTS, AS_OF, clean_lake, day

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
    assert "1 quality finding(s) failed, e.g. completeness [acct_a / a2 / 2026-02-19]" in text
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
