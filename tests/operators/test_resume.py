"""A retry buys only what the failed try did not fetch: staged pieces are reused, once fresh."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import HOUR_MS, request_count
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from tests.conftest import LogText
from tests.lake import lake_rows, lake_tags, table, tag_truth, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["r1", "r2", "r3", "r4", "r5"]
AFTER, BEFORE = D0, D0 + 12 * 24 * HOUR_MS  # 288 hourly buckets: 3 requests per media offer
NEEDED = len(IDS) * request_count(AFTER, BEFORE, HOUR_MS)
PASSED = NEEDED * 4 // 5  # the outage starts after 80% of the run

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def outage_then_retry(emu: Emulator, lake: Path, **kwargs: Any) -> Any:
    """Run with Airflow's retry; the API fails from 80% of the run until Airflow retries."""
    emu.add_faults({"kind": "server_error", "after": PASSED, "times": 10_000})
    dag = build_dag(
        media_offer_ids=IDS,
        output_path=str(lake),
        period=HOUR_MS,
        after_date=AFTER,
        before_date=BEFORE,
        retries=1,
        retry_delay=timedelta(seconds=0),
        on_retry_callback=lambda context: emu.state.clear_faults(),
        **kwargs,
    )
    return dag.test()


def test_an_outage_at_80_percent_costs_the_retry_only_what_is_missing(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    dr = outage_then_retry(fansly_conn, tmp_path)
    assert dr.state == "success"
    (ti,) = dr.get_task_instances()
    assert ti.try_number == 2
    answers = fansly_conn.state.counts["served"]
    assert NEEDED == 15 and answers <= NEEDED * 1.25, answers  # 12 then at most 3 more
    summary = ti.xcom_pull(task_ids="fetch")
    assert summary["reused_requests"] >= PASSED
    assert summary["reused_requests"] + summary["requests"] - summary["retries"] >= NEEDED
    assert lake_rows(tmp_path, HOUR_MS) == truth(DEFAULT_ACCOUNT, IDS, AFTER, BEFORE, HOUR_MS)
    tags = tag_truth(DEFAULT_ACCOUNT, fansly_conn.state.log, 100)
    assert tags and lake_tags(tmp_path) == tags  # the reused pieces' tags came with them
    assert not (tmp_path / "_staging").exists() or not any((tmp_path / "_staging").iterdir())
    logged = logs()
    assert "for a retry to reuse" in logged and "not bought again" in logged
    fetched = table(tmp_path, "fetch_log").to_pylist()
    assert {r["try_number"] for r in fetched} == {2}
    assert sum(r["requests"] for r in fetched) == NEEDED  # each piece's answers, once


def test_staged_answers_older_than_the_freshness_limit_are_bought_again(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    dr = outage_then_retry(fansly_conn, tmp_path, resume_max_age=timedelta(0))
    assert dr.state == "success"
    assert fansly_conn.state.counts["served"] >= PASSED + NEEDED
    summary = dr.get_task_instances()[0].xcom_pull(task_ids="fetch")
    assert summary["reused_requests"] == 0
    assert lake_rows(tmp_path, HOUR_MS) == truth(DEFAULT_ACCOUNT, IDS, AFTER, BEFORE, HOUR_MS)
