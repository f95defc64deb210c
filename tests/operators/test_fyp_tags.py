"""The For-You-page tags of every answer land in ``fyp_tags`` exactly, through Airflow
(dag.test()) against the emulator: daily and hourly windows, cut answers, reruns, retries."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from deltalake import DeltaTable
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.storage.tags import FYP_TAGS_SCHEMA
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from airflow_provider_fansly.testing.synthetic import media_tags
from tests.conftest import LogText
from tests.lake import lake_tags, tag_truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["m1", "m2", "m3", "m4", "m5"]

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def run(lake: Path, after: int, before: int, period: int = DAY_MS, **kw: Any) -> Any:
    dag = build_dag(
        media_offer_ids=IDS, output_path=str(lake), after_date=after, before_date=before,
        period=period, **kw,
    )  # fmt: skip
    dr = dag.test()
    assert dr.state == "success"
    return dr


def test_the_emulator_tags_some_media_offers() -> None:
    tagged = [m for m in IDS if media_tags(DEFAULT_ACCOUNT, m)]
    assert 0 < len(tagged) < len(IDS)  # the tests below see both cases


def test_daily_tags_equal_the_answers_and_a_rerun_replaces_them(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    run(tmp_path, D0, D0 + 45 * DAY_MS)
    expected = tag_truth(DEFAULT_ACCOUNT, fansly_conn.state.log, 100)
    assert expected and lake_tags(tmp_path) == expected
    assert DeltaTable(str(tmp_path / "fyp_tags")).schema().to_arrow() == FYP_TAGS_SCHEMA
    run(tmp_path, D0, D0 + 45 * DAY_MS)
    assert lake_tags(tmp_path) == expected  # replaced, not doubled


def test_hourly_chunks_and_cut_answers_record_the_window_each_answer_covered(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    fansly_conn.config.datapoint_limit = 40  # every chunk of 99 hours comes back cut
    run(tmp_path, D0, D0 + 5 * DAY_MS, HOUR_MS)
    expected = tag_truth(DEFAULT_ACCOUNT, fansly_conn.state.log, 40)
    windows = {(r[1], r[2]) for r in expected}
    assert len(windows) > 3  # chunks and their re-asked older parts
    assert lake_tags(tmp_path) == expected


def test_a_daily_run_with_lookback_keeps_the_previous_runs_windows(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    run(tmp_path, D0, D0 + 2 * DAY_MS)
    first = lake_tags(tmp_path)
    run(tmp_path, D0 + DAY_MS, D0 + 3 * DAY_MS)  # overlaps: its own windows, not the first's
    assert set(first) <= set(lake_tags(tmp_path))
    assert lake_tags(tmp_path) == tag_truth(DEFAULT_ACCOUNT, fansly_conn.state.log, 100)


def test_a_negative_tag_number_fails_the_task_and_publishes_nothing(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    tagged = next(m for m in IDS if media_tags(DEFAULT_ACCOUNT, m))
    fansly_conn.add_faults({"kind": "negative_tag", "media": tagged})
    dag = build_dag(
        media_offer_ids=IDS, output_path=str(tmp_path), after_date=D0, before_date=D0 + DAY_MS
    )
    assert dag.test().state == "failed"
    text = logs()
    assert "topFypTags with a negative number (views, preview views or interaction time)" in text
    assert f"for media offer(s) {tagged}; nothing was published" in text
    assert not (tmp_path / "media_stats").exists() and not (tmp_path / "fyp_tags").exists()
