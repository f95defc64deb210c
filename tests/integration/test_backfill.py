"""Real Airflow on this machine: `airflow backfill create` over a week, and the demo script."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from datetime import date, timedelta
from pathlib import Path

import pytest
from deltalake import DeltaTable

from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY
from airflow_provider_fansly.windows import DAY_MS
from devtools.stack import AirflowStack, connection_env, emulator_process
from tests.conftest import ROOT
from tests.lake import days, lake_rows, truth

pytestmark = pytest.mark.integration
DAG_ID = "fansly_media_stats_daily"
IDS = ["w1", "w2", "w3", "w4"]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    return True


def test_a_week_backfill_through_the_scheduler_lands_exactly_seven_days(tmp_path: Path) -> None:
    first, last = date(2026, 2, 1), date(2026, 2, 7)
    dags = tmp_path / "dags"
    dags.mkdir()
    (dags / f"{DAG_ID}.py").symlink_to(ROOT / "dags" / f"{DAG_ID}.py")
    lake = tmp_path / "lake"
    with emulator_process() as url:
        env = {
            "AIRFLOW_CONN_FANSLY_DEFAULT": connection_env(url, DEFAULT_KEY),
            "AIRFLOW_VAR_FANSLY_ACCOUNT_ID": DEFAULT_ACCOUNT,
            "AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS": json.dumps(IDS),
            "AIRFLOW_VAR_FANSLY_OUTPUT_PATH": str(lake),
            "FANSLY_START_DATE": first.isoformat(),
        }
        stack = AirflowStack(tmp_path / "home", dags, env)
        try:
            stack.prepare({"fansly_api": 4})
            stack.backfill(DAG_ID, first.isoformat(), last.isoformat())
            stack.start()
            runs = stack.wait_for_runs(DAG_ID, 7, timeout=600)
            pids = [p.pid for p in stack.procs]
        finally:
            stack.stop()
    assert sorted(r["logical_date"][:10] for r in runs) == [
        str(first + timedelta(days=i)) for i in range(7)
    ]
    assert not any(_alive(pid) for pid in pids)
    assert days(lake, DAY_MS) == [f"2026-02-0{i}" for i in range(1, 8)]
    # up to 4 runs at once (max_active_runs): seven commits, one per task, none lost
    assert DeltaTable(str(lake / "media_stats")).version() == 7
    d0 = 1_769_904_000_000  # 2026-02-01T00:00Z
    assert lake_rows(lake) == truth(DEFAULT_ACCOUNT, IDS, d0, d0 + 7 * DAY_MS, DAY_MS)


def test_the_demo_runs_to_completion_in_a_scratch_directory(tmp_path: Path) -> None:
    done = subprocess.run(
        [
            sys.executable,
            str(ROOT / "scripts" / "demo.py"),
            "--days",
            "3",
            "--workdir",
            str(tmp_path),
        ],
        capture_output=True,
        text=True,
        timeout=900,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    assert "3/3 runs succeeded" in done.stdout
    assert "3 day(s) landed for 5 media offers; coverage gaps: 0" in done.stdout
    assert (tmp_path / "daily_views.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert len(days(tmp_path / "lake", DAY_MS)) == 3
    # one commit per task: the history lists each backfill run's write with its run id
    assert "newest versions (fansly-lake history)" in done.stdout
    assert done.stdout.count("run_id=backfill__") == 3
