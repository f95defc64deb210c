"""Maintenance through Airflow: compaction, vacuum, checkpoints and staging sweeps, with writers."""

from __future__ import annotations

import os
import time
from datetime import timedelta
from pathlib import Path

import pendulum
import pytest
from deltalake import DeltaTable
from fansly_maintenance_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.operators.maintenance import LakeMaintenanceOperator
from airflow_provider_fansly.operators.media_stats import MediaStatsOperator
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.maintenance import maintain
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from devtools.workers import finish, start_worker
from tests.lake import lake_rows, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["k1", "k2", "k3", "k4"]

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def fill(lake: Path, days: int) -> None:
    """One task per day and media offer pair: many small files, as daily runs leave them."""
    for day in range(days):
        for ids in (IDS[:2], IDS[2:]):
            MediaStatsOperator(
                task_id="fill",
                account_id=DEFAULT_ACCOUNT,
                media_offer_ids=ids,
                output_path=str(lake),
                after_date=D0 + day * DAY_MS,
                before_date=D0 + (day + 1) * DAY_MS,
            ).execute({})  # type: ignore[arg-type]


def test_maintenance_compacts_vacuums_and_sweeps_without_changing_a_row(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    lake = tmp_path / "lake"
    fill(lake, 3)
    rows = lake_rows(lake)
    stats = DeltaTable(str(lake / "media_stats"))
    files_before = len(stats.file_uris())
    orphan = lake / "media_stats" / "period_ms=86400000" / "dt=2026-01-01" / "part-dead.parquet"
    orphan.write_bytes(b"left by a writer that died before its commit")
    dead, alive = lake / "_staging" / "k" / "try1-dead", lake / "_staging" / "k" / "try2-alive"
    for folder in (dead, alive):
        folder.mkdir(parents=True)
        (folder / "batch-00000.parquet").write_bytes(b"staged")
    os.utime(dead / "batch-00000.parquet", (time.time() - 3 * 86400,) * 2)
    os.utime(orphan, (time.time() - 3 * 86400,) * 2)
    dr = build_dag(output_path=str(lake), retention=timedelta(days=2)).test()
    assert dr.state == "success"
    report = dr.get_task_instances()[0].xcom_pull(task_ids="maintain")
    assert report["compacted"]["media_stats"] == files_before  # 3 old days, 2 files each
    assert len(DeltaTable(str(lake / "media_stats")).file_uris()) == 3  # one file per day
    assert lake_rows(lake) == rows
    assert not orphan.exists() and report["vacuumed"]["media_stats"] >= 1
    assert report["staging_swept"] == 1 and not dead.exists() and alive.exists()
    assert list((lake / "media_stats" / "_delta_log").glob("*.checkpoint.parquet"))


def test_maintenance_while_a_writer_commits_to_the_same_days(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    lake = tmp_path / "lake"
    fill(lake, 2)
    fansly_conn.config.latency = 0.05
    writer = start_worker(lake, fansly_conn, D0, D0 + 2 * DAY_MS, ids=IDS)
    for _ in range(3):  # compaction of the very days the writer rewrites, again and again
        maintain(Location.parse(str(lake)), compact_before=pendulum.date(2027, 1, 1))
    finish(writer)
    maintain(Location.parse(str(lake)), compact_before=pendulum.date(2027, 1, 1))
    assert lake_rows(lake) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 2 * DAY_MS, DAY_MS)


def test_bad_settings_are_refused_when_the_dag_is_parsed(tmp_path: Path) -> None:
    with pytest.raises(ValueError, match="compact_after_days must be at least 1"):
        LakeMaintenanceOperator(task_id="m", output_path=str(tmp_path), compact_after_days=0)


def test_a_retention_under_an_hour_is_refused_and_deletes_nothing(tmp_path: Path) -> None:
    """Vacuum deletes unnamed files older than the retention: a writer's files before its
    commit are such files, so a retention of minutes could delete a commit in the making."""
    lake = tmp_path / "lake"
    fill(lake, 1)
    rows = lake_rows(lake)
    writing = lake / "media_stats" / "period_ms=86400000" / "dt=2026-01-01" / "part-writing.parquet"
    writing.write_bytes(b"a writer's file, its commit not made yet")
    os.utime(writing, (time.time() - 40 * 60,) * 2)  # written 40 minutes ago
    with pytest.raises(ValueError, match="retention must be at least 1:00:00"):
        maintain(
            Location.parse(str(lake)),
            compact_before=pendulum.date(2027, 1, 1),
            retention=timedelta(minutes=30),
        )
    with pytest.raises(ValueError, match="retention must be at least"):
        LakeMaintenanceOperator(task_id="m", output_path=str(lake), retention=timedelta(0))
    maintain(Location.parse(str(lake)), compact_before=pendulum.date(2027, 1, 1),
             retention=timedelta(hours=1))  # fmt: skip
    assert writing.exists() and lake_rows(lake) == rows
