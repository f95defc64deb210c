"""Requests are money: the fewest requests, a budget that stops runs, nothing torn."""

from __future__ import annotations

import math
from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS, MAX_BUCKETS_PER_REQUEST
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from tests.conftest import LogText
from tests.lake import lake_rows, snapshot, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def xcom(dr: Any) -> dict[str, Any]:
    (ti,) = dr.get_task_instances()
    return dict(ti.xcom_pull(task_ids="fetch"))


@pytest.mark.parametrize(
    ("ids", "buckets", "period"),
    [
        (["a", "b"], 365, DAY_MS),
        (["a", "b", "c"], 240, HOUR_MS),
        (["a"], 99, DAY_MS),
        (["a", "b", "c", "d"], 100, DAY_MS),
    ],
    ids=["year-daily", "240-hours", "exactly-99", "100-spills"],
)
def test_a_clean_run_costs_exactly_the_documented_minimum(
    tmp_path: Path, fansly_conn: Emulator, ids: list[str], buckets: int, period: int
) -> None:
    dr = build_dag(
        media_offer_ids=ids,
        output_path=str(tmp_path),
        after_date=D0,
        before_date=D0 + buckets * period,
        period=period,
    ).test()
    minimum = len(ids) * math.ceil(buckets / MAX_BUCKETS_PER_REQUEST)
    assert fansly_conn.state.counts["requests"] == minimum
    summary = xcom(dr)
    assert summary["requests"] == summary["estimated_requests"] == minimum


def test_a_run_over_budget_stops_before_sending_anything(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    dr = build_dag(
        media_offer_ids=["a", "b", "c"],
        output_path=str(tmp_path),
        after_date=D0,
        before_date=D0 + 200 * DAY_MS,
        max_requests=8,
    ).test()
    assert dr.state == "failed"
    assert "this run needs 9 requests for 3 media offer(s) but max_requests is 8" in logs()
    assert fansly_conn.state.counts["requests"] == 0


def test_the_connection_extra_is_the_default_budget(
    tmp_path: Path, fansly_conn: Emulator, monkeypatch: pytest.MonkeyPatch, logs: LogText
) -> None:
    from tests.conftest import FAST_RETRIES, connection_json

    monkeypatch.setenv(
        "AIRFLOW_CONN_FANSLY_DEFAULT",
        connection_json(fansly_conn.url, max_requests=2, **FAST_RETRIES),
    )
    dr = build_dag(
        media_offer_ids=["a", "b", "c"],
        output_path=str(tmp_path),
        after_date=D0,
        before_date=D0 + DAY_MS,
    ).test()
    assert dr.state == "failed" and "max_requests is 2" in logs()
    assert fansly_conn.state.counts["requests"] == 0


def test_retries_that_reach_the_budget_stop_cleanly_and_publish_nothing(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    assert (
        build_dag(
            media_offer_ids=["a", "b"],
            output_path=str(tmp_path),
            after_date=D0,
            before_date=D0 + 5 * DAY_MS,
        )
        .test()
        .state
        == "success"
    )
    before = snapshot(tmp_path)
    fansly_conn.state.reset()
    fansly_conn.add_faults({"kind": "server_error", "times": 2, "media": "b"})
    dr = build_dag(
        media_offer_ids=["a", "b"],
        output_path=str(tmp_path),
        after_date=D0,
        before_date=D0 + 5 * DAY_MS,
        max_requests=3,
        max_in_flight=1,
    ).test()
    assert dr.state == "failed"
    assert "this try's request budget max_requests=3 is used up" in logs()
    assert fansly_conn.state.counts["requests"] == 3
    assert snapshot(tmp_path) == before


def test_a_budget_used_up_mid_run_keeps_what_it_bought_and_the_retry_buys_the_rest(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    """12 media offers, max_requests=12, two 503s: the first try's retries use the budget up
    with 10 answers bought. They are staged, and Airflow's retry buys only the other two."""
    ids = [f"b{i:02d}" for i in range(12)]
    for media in ("b03", "b07"):
        fansly_conn.add_faults({"kind": "server_error", "media": media})
    dr = build_dag(
        media_offer_ids=ids,
        output_path=str(tmp_path),
        after_date=D0,
        before_date=D0 + DAY_MS,
        max_requests=12,
        retries=1,
        retry_delay=timedelta(0),
    ).test()
    assert dr.state == "success"
    (ti,) = dr.get_task_instances()
    assert ti.try_number == 2  # Airflow retried: the budget ran out while fetching
    text = logs()
    assert "this try's request budget max_requests=12 is used up" in text
    assert "not retried:" not in text
    served = fansly_conn.state.counts["served"]
    assert fansly_conn.state.counts["requests"] == 12 + 2  # try 1: 12 sends; try 2: 2
    assert served == 12  # every answer bought once
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, ids, D0, D0 + DAY_MS, DAY_MS)
    summary = ti.xcom_pull(task_ids="fetch")
    assert (summary["requests"], summary["reused_requests"]) == (2, 10)
