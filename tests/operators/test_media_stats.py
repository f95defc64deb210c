"""MediaStatsOperator through Airflow (dag.test()) against the emulator over loopback."""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from airflow.sdk import DAG
from deltalake import DeltaTable
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.coverage import coverage_gaps
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from airflow_provider_fansly.testing.emulator.faults import EXTRA_NUMBER
from tests.conftest import LogText
from tests.lake import days, lake_rows, snapshot, table, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["m1", "m2", "m3"]

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def run(dag: DAG, expect: str = "success", **kwargs: Any) -> Any:
    dr = dag.test(**kwargs)
    assert dr.state == expect
    return dr


def probe(lake: Path, after: int, before: int, ids: list[str] = IDS, **kw: Any) -> DAG:
    return build_dag(
        media_offer_ids=ids, output_path=str(lake), after_date=after, before_date=before, **kw
    )


def test_45_days_of_several_media_offers_equal_the_emulator_and_rerun_changes_nothing(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    before = D0 + 45 * DAY_MS
    first = run(probe(tmp_path, D0, before)).get_task_instances()[0].xcom_pull(task_ids="fetch")
    assert len(days(tmp_path, DAY_MS)) == 45
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, before, DAY_MS)
    assert fansly_conn.state.counts["requests"] == 3
    again = run(probe(tmp_path, D0, before)).get_task_instances()[0].xcom_pull(task_ids="fetch")
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, before, DAY_MS)
    # one commit per task: version 0 created the table, each run added exactly one version
    assert (first["table_version"], again["table_version"]) == (1, 2)
    delta = DeltaTable(str(tmp_path / "media_stats"))
    assert delta.version() == 2 and delta.metadata().partition_columns == ["period_ms", "dt"]
    assert table(tmp_path).schema.equals(MEDIA_STATS_SCHEMA)
    assert table(tmp_path, version=1).num_rows == table(tmp_path).num_rows  # time travel


def test_hourly_window_in_three_chunks_equals_the_emulator(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    before = D0 + 240 * HOUR_MS
    run(probe(tmp_path, D0, before, period=HOUR_MS))
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, before, HOUR_MS)
    assert fansly_conn.state.counts["requests"] == 9
    assert len(days(tmp_path, HOUR_MS)) == 10


def test_reruns_in_reverse_order_and_overlapping_leave_the_same_rows(tmp_path: Path) -> None:
    d = DAY_MS
    for after, before in [
        (D0 + 5 * d, D0 + 10 * d),
        (D0, D0 + 5 * d),
        (D0 + 3 * d, D0 + 7 * d),
        (D0 + 9 * d, D0 + 10 * d),
    ]:
        run(probe(tmp_path, after, before, ids=["m1", "m2"]))
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, ["m1", "m2"], D0, D0 + 10 * d, DAY_MS)


def test_a_partial_day_keeps_the_rest_of_that_day(tmp_path: Path) -> None:
    run(probe(tmp_path, D0, D0 + 2 * DAY_MS, period=HOUR_MS))
    run(probe(tmp_path, D0 + 5 * HOUR_MS, D0 + 9 * HOUR_MS, period=HOUR_MS))
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 2 * DAY_MS, HOUR_MS)


def test_daily_and_hourly_never_mix(tmp_path: Path) -> None:
    run(probe(tmp_path, D0, D0 + 2 * DAY_MS))
    run(probe(tmp_path, D0, D0 + 2 * DAY_MS, period=HOUR_MS))
    assert lake_rows(tmp_path, DAY_MS) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 2 * DAY_MS, DAY_MS)
    assert lake_rows(tmp_path, HOUR_MS) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 2 * DAY_MS, HOUR_MS)


def test_recut_batches_neither_double_nor_lose_rows(tmp_path: Path) -> None:
    run(probe(tmp_path, D0, D0 + 3 * DAY_MS, ids=["m1", "m2"]))
    run(probe(tmp_path, D0, D0 + 3 * DAY_MS, ids=["m3"]))
    run(probe(tmp_path, D0, D0 + 3 * DAY_MS, ids=["m2", "m3", "m4"]))
    ids = ["m1", "m2", "m3", "m4"]
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, ids, D0, D0 + 3 * DAY_MS, DAY_MS)
    offers = table(tmp_path, "media_offers").column("media_offer_id").to_pylist()
    assert sorted(offers) == ids  # one current row per media offer (a merge)


def test_a_quiet_window_is_logged_as_fetched_not_as_a_gap(tmp_path: Path) -> None:
    quiet = 1_388_534_400_000  # 2014-01-01: the emulator has no activity then
    first, last = date(2014, 1, 1), date(2014, 1, 3)
    expected = {DEFAULT_ACCOUNT: IDS}
    assert len(coverage_gaps(str(tmp_path), expected, first, last)) == 3  # never fetched
    run(probe(tmp_path, quiet, quiet + 3 * DAY_MS))
    assert table(tmp_path).num_rows == 0
    assert days(tmp_path, DAY_MS, "fetch_log") == ["2014-01-01", "2014-01-02", "2014-01-03"]
    assert coverage_gaps(str(tmp_path), expected, first, last) == []
    logged = table(tmp_path, "fetch_log").to_pylist()
    assert len(logged) == 9 and {r["status"] for r in logged} == {"fetched"}
    assert {r["rows"] for r in logged} == {0} and {r["table_version"] for r in logged} == {1}


def test_the_summary_goes_to_xcom(tmp_path: Path) -> None:
    dr = run(probe(tmp_path, D0, D0 + 3 * DAY_MS))
    (ti,) = dr.get_task_instances()
    summary = ti.xcom_pull(task_ids="fetch")
    assert summary["days"] == 3 and summary["requests"] == 3 == summary["estimated_requests"]
    assert summary["table_version"] == 1 and summary["commit_conflicts"] == 0
    assert summary["rows"] == len(truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 3 * DAY_MS, DAY_MS))


def test_the_task_links_to_the_page_at_its_account_and_window(tmp_path: Path) -> None:
    dr = run(probe(tmp_path, D0, D0 + 3 * DAY_MS, lookback=1))
    (ti,) = dr.get_task_instances()
    link = urlsplit(ti.xcom_pull(task_ids="fetch", key="_link_LakePageLink"))
    assert link.path.endswith("/fansly/")
    assert parse_qs(link.query) == {
        "path": [str(tmp_path)], "account": [DEFAULT_ACCOUNT], "period": ["daily"],
        "after": [str(D0 - DAY_MS)], "before": [str(D0 + 3 * DAY_MS)],  # the lookback included
    }  # fmt: skip


def test_lookback_rewrites_the_days_before_the_window(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    run(probe(tmp_path, D0 + 3 * DAY_MS, D0 + 4 * DAY_MS, lookback=2))
    assert days(tmp_path, DAY_MS) == ["2026-01-02", "2026-01-03", "2026-01-04"]
    assert fansly_conn.state.log[0]["after"] == D0 + DAY_MS


INVALID = [
    ("negative", {"kind": "negative_counts"}, "views"),
    ("off-grid", {"kind": "off_grid", "times": 10}, "grid"),
    ("bucket-twice", {"kind": "duplicate_bucket"}, "unique"),
    ("unique>views", {"kind": "unique_gt_views"}, "unique_viewers <= views"),
    ("wrong-types", {"kind": "wrong_types", "times": 10}, "not an integer"),
    ("html-502", {"kind": "bad_gateway_html", "times": 10}, "non-JSON body"),
]


@pytest.mark.parametrize(
    ("fault", "message"), [i[1:] for i in INVALID], ids=[i[0] for i in INVALID]
)
def test_bad_answers_fail_clearly_and_publish_nothing(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText, fault: dict[str, Any], message: str
) -> None:
    run(probe(tmp_path, D0, D0 + 10 * DAY_MS))
    before = snapshot(tmp_path)
    fansly_conn.add_faults({**fault, "media": "m2"})
    run(probe(tmp_path, D0 + 5 * DAY_MS, D0 + 15 * DAY_MS), expect="failed")
    assert message in logs()
    assert snapshot(tmp_path) == before


def test_unknown_stat_types_warn_drop_or_fail(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    fansly_conn.add_faults({"kind": "unknown_stat_type"})
    dr = run(probe(tmp_path / "warn", D0, D0 + 3 * DAY_MS))
    assert dr.get_task_instances()[0].xcom_pull(task_ids="fetch")["unknown_stat_types"] == {"97": 1}
    assert 97 in {r[2] for r in lake_rows(tmp_path / "warn")}
    fansly_conn.add_faults({"kind": "unknown_stat_type"})
    run(probe(tmp_path / "drop", D0, D0 + 3 * DAY_MS, unknown_stat_types="drop"))
    assert lake_rows(tmp_path / "drop") == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 3 * DAY_MS, DAY_MS)
    fansly_conn.add_faults({"kind": "unknown_stat_type"})
    run(probe(tmp_path / "fail", D0, D0 + 3 * DAY_MS, unknown_stat_types="fail"), expect="failed")
    assert "unknown stat type(s) 97" in logs()
    assert not (tmp_path / "fail" / "media_stats").exists()


def test_a_new_numeric_field_is_kept_exactly_with_its_rows_and_logged_once(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    fansly_conn.add_faults({"kind": "extra_fields", "times": 3})
    run(probe(tmp_path, D0, D0 + 3 * DAY_MS))
    text = logs()  # read once: reading consumes what was printed
    assert text.count("new stat field 'newShinyMetric'") == 1
    assert text.count("new stat field 'newLabel'") == 1
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 3 * DAY_MS, DAY_MS)
    extras = [r["extra_stats"] for r in table(tmp_path).to_pylist() if r["extra_stats"]]
    assert extras and all(json.loads(e) == {"newShinyMetric": EXTRA_NUMBER} for e in extras)


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"after_date": D0, "before_date": D0}, "is empty"),
        ({"after_date": D0 + DAY_MS, "before_date": D0}, "inverted"),
        ({"after_date": D0 + 5, "before_date": D0 + DAY_MS}, "not on the"),
        ({"after_date": D0}, "give both"),
        (
            {"after_date": D0, "before_date": D0 + DAY_MS, "media_offer_ids": ["../etc"]},
            "not a safe id",
        ),
        ({"after_date": D0, "before_date": D0 + DAY_MS, "account_id": "a b"}, "not a safe id"),
        ({"after_date": "last tuesday", "before_date": D0}, "neither epoch ms nor ISO-8601"),
    ],
    ids=[
        "empty",
        "inverted",
        "off-grid",
        "half-window",
        "unsafe-media",
        "unsafe-account",
        "garbage-date",
    ],
)
def test_impossible_input_fails_before_any_request(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText, kwargs: dict[str, Any], message: str
) -> None:
    run(build_dag(output_path=str(tmp_path), **kwargs), expect="failed")
    assert message in logs()
    assert fansly_conn.state.counts["requests"] == 0


@pytest.mark.parametrize(
    ("kwargs", "message"),
    [
        ({"resume_max_age": 6}, "resume_max_age must be a timedelta"),
        ({"resume_max_age": timedelta(hours=-1)}, "resume_max_age must be a timedelta"),
        ({"max_rate_limit_wait": -5}, "max_rate_limit_wait must be 0 or more"),
    ],
    ids=["resume-age-number", "resume-age-negative", "negative-429-wait"],
)
def test_bad_settings_are_refused_when_the_dag_is_parsed(
    tmp_path: Path, kwargs: dict[str, Any], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        build_dag(output_path=str(tmp_path), **kwargs)


def test_a_plain_cron_schedule_is_refused_with_advice(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    run(build_dag(schedule="@daily", output_path=str(tmp_path)), expect="failed")
    assert "CronDataIntervalTimetable" in logs()
    assert fansly_conn.state.counts["requests"] == 0


def test_the_run_data_interval_is_the_default_window(tmp_path: Path, fansly_conn: Emulator) -> None:
    import pendulum

    run(build_dag(output_path=str(tmp_path)), logical_date=pendulum.datetime(2026, 1, 5, tz="UTC"))
    (entry,) = fansly_conn.state.log
    assert entry["before"] - entry["after"] == DAY_MS
    assert len(days(tmp_path, DAY_MS)) == 1


def test_the_run_logs_its_estimate_progress_and_summary(tmp_path: Path, logs: LogText) -> None:
    run(probe(tmp_path, D0, D0 + 200 * DAY_MS, ids=["a", "b", "c", "d"]))
    text = logs()
    # 200 days = 3 chunks of at most 99 buckets per media offer: 12 requests in all
    assert "Fetching 4 media offer(s) of fansly_demo" in text and "12 request(s)" in text
    assert "Media offers done: 1 of 4" in text and "Media offers done: 3 of 4" in text
    assert all(f"Chunk {k}/3 done" in text for k in (1, 2, 3))
    assert "Committed media_stats version 1" in text and "12 request(s) (12 estimated)" in text
