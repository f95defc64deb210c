"""A media offer the API answers gone does not sink its batch; all gone is about the account."""

from __future__ import annotations

from datetime import date, timedelta
from pathlib import Path

import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.coverage import coverage_gaps
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from tests.conftest import LogText
from tests.lake import lake_rows, snapshot, table, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["g1", "g2", "g3"]
FIRST, LAST = date(2026, 1, 1), date(2026, 1, 5)

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def run(lake: Path, after: int, before: int, **kwargs: object) -> object:
    window = {"after_date": after, "before_date": before}
    dag = build_dag(media_offer_ids=IDS, output_path=str(lake), **window, **kwargs)
    return dag.test()


def test_a_gone_media_offer_is_skipped_recorded_and_its_history_kept(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    assert run(tmp_path, D0, D0 + 5 * DAY_MS).state == "success"  # g2's history, while it lived
    history = {r["fetched_at"] for r in table(tmp_path).to_pylist() if r["media_offer_id"] == "g2"}
    fansly_conn.config.deleted_media = {"g2"}
    fansly_conn.state.reset()
    dr = run(tmp_path, D0 + 2 * DAY_MS, D0 + 5 * DAY_MS)
    assert dr.state == "success"
    summary = dr.get_task_instances()[0].xcom_pull(task_ids="fetch")
    assert summary["gone"] == ["g2"]
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 5 * DAY_MS, DAY_MS)
    kept = {r["fetched_at"] for r in table(tmp_path).to_pylist() if r["media_offer_id"] == "g2"}
    assert kept == history  # not part of the commit: its rows are the first run's
    gone_log = [r for r in table(tmp_path, "fetch_log").to_pylist() if r["status"] == "gone"]
    assert {(r["media_offer_id"], str(r["dt"])) for r in gone_log} == {
        ("g2", str(FIRST + timedelta(days=d))) for d in (2, 3, 4)
    }
    offers = {
        r["media_offer_id"]: r["deleted"] for r in table(tmp_path, "media_offers").to_pylist()
    }
    assert offers["g2"] is True and offers["g1"] is False
    gaps = coverage_gaps(str(tmp_path), {DEFAULT_ACCOUNT: IDS}, FIRST, LAST)
    # gone is news on its first day only: later days no longer expect it (the page's rule)
    assert [(g.day, g.missing, g.gone) for g in gaps] == [(FIRST + timedelta(days=2), (), ("g2",))]
    assert logs().count("answered gone (deleted, or not found) and were skipped") == 1
    assert len([e for e in fansly_conn.state.log if e["media"] == "g2"]) == 2  # asked once more


def test_on_gone_fail_fails_fast_and_commits_nothing(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    assert run(tmp_path, D0, D0 + 3 * DAY_MS).state == "success"
    before = snapshot(tmp_path)
    fansly_conn.config.deleted_media = {"g2"}
    dr = run(tmp_path, D0, D0 + 3 * DAY_MS, on_gone="fail", retries=2)
    assert dr.state == "failed" and dr.get_task_instances()[0].try_number == 1
    assert "error getting graph" in logs() and snapshot(tmp_path) == before


def test_every_media_offer_gone_on_an_account_the_key_no_longer_lists_fails_fast(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    dr = run(tmp_path, D0, D0 + 3 * DAY_MS, retries=2, account_id="fansly_disconnected")
    assert dr.state == "failed" and dr.get_task_instances()[0].try_number == 1
    text = logs()
    assert "'fansly_disconnected' is not among the accounts connected" in text
    assert "not retried:" in text
    assert not (tmp_path / "media_stats").exists()
    assert fansly_conn.state.counts["requests"] == len(IDS) + 1  # a 404 each, then the probe


def test_every_media_offer_gone_on_a_connected_account_is_recorded_and_succeeds(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    """A creator deleted every post of one batch (sorted ids cut contiguous ranges): the
    account answers for itself with one request, and the batch succeeds with nothing to
    replace."""
    assert run(tmp_path, D0, D0 + 3 * DAY_MS).state == "success"
    before = lake_rows(tmp_path)
    fansly_conn.config.deleted_media = set(IDS)
    fansly_conn.state.reset()
    dr = run(tmp_path, D0 + DAY_MS, D0 + 3 * DAY_MS, retries=2)
    assert dr.state == "success"
    summary = dr.get_task_instances()[0].xcom_pull(task_ids="fetch")
    assert summary["gone"] == IDS and summary["table_version"] is None
    assert summary["estimated_requests"] == len(IDS) + 1  # the probe counted in
    assert summary["requests"] == 2 * len(IDS) + 1  # each gone answer asked once more
    assert lake_rows(tmp_path) == before  # their history is kept
    gone = [r for r in table(tmp_path, "fetch_log").to_pylist() if r["status"] == "gone"]
    assert len(gone) == 2 * len(IDS)  # each media offer, each day of the window
    deleted = {
        r["media_offer_id"]: r["deleted"] for r in table(tmp_path, "media_offers").to_pylist()
    }
    assert all(deleted[m] for m in IDS)
    assert "nothing to media_stats (every media offer answered gone)" in logs()
