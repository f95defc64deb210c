"""The daily DAG on the CeleryExecutor: two workers, Redis, a real scheduler and api-server.

A deployment as a new user makes it: only the connection and the Variables exist (no pool),
the DAG files are copied as shipped and unpaused. The scheduler's own run fetches yesterday
(not months of catchup); a backfill of three days runs in mapped batches spread over two
Celery workers (which fork their task processes); the lake must hold every row exactly once,
and the quality DAG must run on the run-level alias: once per producing run.
"""

from __future__ import annotations

import json
import shutil
from datetime import date, datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest

from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY
from airflow_provider_fansly.windows import DAY_MS
from devtools.stack import AirflowStack, connection_env, emulator_process, redis_server
from tests.conftest import ROOT
from tests.lake import days, lake_rows, truth

pytestmark = pytest.mark.integration
DAILY, QUALITY = "fansly_media_stats_daily", "fansly_media_stats_quality"
IDS = ["c1", "c2", "c3", "c4"]
D0 = 1_769_904_000_000  # 2026-02-01T00:00Z


def _copy_dags(folder: Path) -> None:
    folder.mkdir()
    for dag_id in (DAILY, QUALITY):
        shutil.copy(ROOT / "dags" / f"{dag_id}.py", folder / f"{dag_id}.py")


def _consumed(stack: AirflowStack, run: dict[str, Any]) -> list[dict[str, Any]]:
    path = f"/api/v2/dags/{QUALITY}/dagRuns/{run['dag_run_id']}/upstreamAssetEvents"
    return list(stack.get(path)["asset_events"])


def test_a_backfill_on_two_celery_workers_lands_exactly_and_triggers_quality_once_per_run(
    tmp_path: Path,
) -> None:
    first, last = date(2026, 2, 1), date(2026, 2, 3)
    dags, lake = tmp_path / "dags", tmp_path / "lake"
    _copy_dags(dags)
    with emulator_process() as url, redis_server() as broker:
        env = {
            "AIRFLOW_CONN_FANSLY_DEFAULT": connection_env(url, DEFAULT_KEY),
            "AIRFLOW_VAR_FANSLY_ACCOUNT_ID": DEFAULT_ACCOUNT,
            "AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS": json.dumps(IDS),
            "AIRFLOW_VAR_FANSLY_OUTPUT_PATH": str(lake),
            "AIRFLOW_VAR_FANSLY_BATCH_SIZE": "2",
            "FANSLY_START_DATE": "2026-01-01",
        }
        with AirflowStack(tmp_path / "home", dags, env, broker=broker) as stack:
            stack.prepare(pools={})
            stack.backfill(DAILY, first.isoformat(), last.isoformat())
            stack.start()
            stack.worker("w1")
            stack.worker("w2")
            stack.wait_for_runs(DAILY, 3, timeout=600)
            (scheduled,) = stack.wait_for_runs(DAILY, 1, timeout=300, run_type="scheduled")
            after_backfill = stack.settled_runs(QUALITY, "asset_triggered", settle=6)
            # one more producing run, alone: exactly one more quality run
            stack.trigger(DAILY, "2026-02-05T00:00:00Z")
            stack.wait_for_runs(DAILY, 1, timeout=300, run_type="manual")
            after_manual = stack.settled_runs(QUALITY, "asset_triggered", settle=6)
            consumed = [e for r in after_manual for e in _consumed(stack, r)]
            worker_logs = [
                (stack.home / "logs" / f"worker-{w}.log").read_text() for w in ("w1", "w2")
            ]

    # unpaused, the DAG's own run is the latest day only: yesterday, with its 2-day lookback
    yesterday = date.today() - timedelta(days=1)
    assert scheduled["data_interval_start"][:10] == str(yesterday)
    recent = [str(yesterday - timedelta(days=i)) for i in (2, 1, 0)]
    # every row once: the backfill's three days, the manual run's [02-02, 02-05), the recent
    assert days(lake, DAY_MS) == ["2026-02-01", "2026-02-02", "2026-02-03", "2026-02-04", *recent]
    y0 = int(datetime.combine(yesterday, datetime.min.time(), timezone.utc).timestamp()) * 1000
    expected = truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 4 * DAY_MS, DAY_MS) + truth(
        DEFAULT_ACCOUNT, IDS, y0 - 2 * DAY_MS, y0 + DAY_MS, DAY_MS
    )
    assert lake_rows(lake) == sorted(expected)
    # both workers ran tasks
    assert all("fansly_media_stats_daily" in text for text in worker_logs)
    # quality ran on the run-level events only: 3 backfill + 1 scheduled + 1 manual run
    assert 1 <= len(after_backfill) <= 4
    assert len(after_manual) == len(after_backfill) + 1
    assert all(r["state"] == "success" for r in after_manual)
    updates = [e for e in consumed if e["source_task_id"] == "lake_updated"]
    assert len(updates) == 5
    manual = next(e for e in updates if e["source_run_id"].startswith("manual__"))
    assert manual["extra"]["batches"] == 2 and manual["extra"]["media_offers"] == 4
    assert manual["extra"]["days"] == [str(first + timedelta(days=i)) for i in range(1, 4)]
