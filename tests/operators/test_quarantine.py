"""on_invalid="quarantine": the other media offers publish, the bad one's history is kept."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from tests.conftest import LogText
from tests.lake import lake_rows, snapshot, table, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["q1", "q2", "q3"]
RETRIES = {"retries": 2, "retry_delay": timedelta(0)}

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def run(lake: Path, after: int, before: int, **kwargs: Any) -> Any:
    window = {"after_date": after, "before_date": before}
    return build_dag(media_offer_ids=IDS, output_path=str(lake), **window, **kwargs).test()


def fetched_at(lake: Path, media: str) -> set[object]:
    return {r["fetched_at"] for r in table(lake).to_pylist() if r["media_offer_id"] == media}


def test_an_invalid_media_offer_is_set_apart_and_the_others_publish(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    assert run(tmp_path, D0, D0 + 5 * DAY_MS).state == "success"
    history = fetched_at(tmp_path, "q2")
    first_q1 = fetched_at(tmp_path, "q1")
    fansly_conn.add_faults({"kind": "negative_counts", "media": "q2", "times": 100})
    dr = run(tmp_path, D0, D0 + 5 * DAY_MS, on_invalid="quarantine", **RETRIES)
    assert dr.state == "success"
    (ti,) = dr.get_task_instances()
    summary = ti.xcom_pull(task_ids="fetch")
    assert list(summary["invalid"]) == ["q2"]
    assert "failed data-quality validation" in summary["invalid"]["q2"]
    assert fetched_at(tmp_path, "q2") == history  # its rows are the first run's
    assert fetched_at(tmp_path, "q1") != first_q1  # the others were replaced
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 5 * DAY_MS, DAY_MS)
    log = table(tmp_path, "fetch_log").to_pylist()
    latest = {r["media_offer_id"]: r["status"] for r in log if r["run_id"] == dr.run_id}
    assert latest == {"q1": "fetched", "q2": "invalid", "q3": "fetched"}
    assert summary["rows"] == sum(r["rows"] for r in log if r["run_id"] == dr.run_id)
    assert "set apart (on_invalid='quarantine')" in logs()


def test_every_media_offer_invalid_still_fails_and_publishes_nothing(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    assert run(tmp_path, D0, D0 + 3 * DAY_MS).state == "success"
    before = snapshot(tmp_path)
    fansly_conn.add_faults({"kind": "negative_counts", "times": 100})
    dr = run(tmp_path, D0, D0 + 3 * DAY_MS, on_invalid="quarantine", **RETRIES)
    assert dr.state == "failed"
    assert dr.get_task_instances()[0].try_number == 1  # not retried
    assert snapshot(tmp_path) == before
    assert "every media offer of this task that answered (3) failed validation" in logs()
