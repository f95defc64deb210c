"""A killed worker, an S3 lake, and the readers analysts use."""

from __future__ import annotations

import os
import signal
import time
from pathlib import Path

import duckdb
import polars as pl
import pytest
from deltalake import DeltaTable
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from devtools.workers import finish, start_worker
from tests.lake import lake_rows, s3_rows, snapshot, table, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["m1", "m2", "m3", "m4"]

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def test_worker_killed_while_fetching_leaves_the_lake_as_it_was(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    build_dag(
        media_offer_ids=IDS, output_path=str(tmp_path), after_date=D0, before_date=D0 + 120 * DAY_MS
    ).test()
    before = snapshot(tmp_path)
    fansly_conn.config.latency = 0.2
    worker = start_worker(tmp_path, fansly_conn, D0 + 60 * DAY_MS, D0 + 300 * DAY_MS, ids=IDS)
    deadline = time.monotonic() + 60
    while fansly_conn.state.counts["requests"] < 3 + 4 and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=30) == -signal.SIGKILL
    assert fansly_conn.state.counts["requests"] < 3 + 12, "the worker finished fetching"
    assert snapshot(tmp_path) == before
    fansly_conn.config.latency = 0
    build_dag(
        media_offer_ids=IDS,
        output_path=str(tmp_path),
        after_date=D0 + 60 * DAY_MS,
        before_date=D0 + 300 * DAY_MS,
    ).test()
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 300 * DAY_MS, DAY_MS)


def test_worker_killed_mid_commit_leaves_the_last_version_and_vacuum_clears_its_files(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    build_dag(
        media_offer_ids=IDS, output_path=str(tmp_path), after_date=D0, before_date=D0 + 5 * DAY_MS
    ).test()
    rows, version = lake_rows(tmp_path), DeltaTable(str(tmp_path / "media_stats")).version()
    worker = start_worker(
        tmp_path, fansly_conn, D0, D0 + 240 * DAY_MS, ids=IDS, kill_on_new_data_file=True
    )
    assert worker.wait(timeout=120) == -signal.SIGKILL
    delta = DeltaTable(str(tmp_path / "media_stats"))
    assert delta.version() == version and lake_rows(tmp_path) == rows  # readable, unchanged
    on_disk = {p.name for p in (tmp_path / "media_stats").rglob("*.parquet")}
    orphans = on_disk - {uri.rsplit("/", 1)[1] for uri in delta.file_uris()}
    assert orphans, "the kill came before delta-rs wrote a data file"
    removed = delta.vacuum(
        retention_hours=0, enforce_retention_duration=False, dry_run=False, full=True
    )
    removed = {path.rsplit("/", 1)[1] for path in removed}
    assert orphans <= set(removed)
    build_dag(
        media_offer_ids=IDS, output_path=str(tmp_path), after_date=D0, before_date=D0 + 240 * DAY_MS
    ).test()
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 240 * DAY_MS, DAY_MS)


def test_an_s3_lake_gets_the_same_rows_and_a_failed_run_changes_nothing(
    s3_lake: str, s3_endpoint: str, fansly_conn: Emulator
) -> None:
    def run() -> str:
        window = {"after_date": D0, "before_date": D0 + 5 * DAY_MS}
        return str(build_dag(media_offer_ids=IDS, output_path=s3_lake, **window).test().state)

    assert run() == "success"
    rows = s3_rows(s3_endpoint, s3_lake)
    assert rows == [r[:4] for r in truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 5 * DAY_MS, DAY_MS)]
    fansly_conn.add_faults({"kind": "negative_counts", "media": "m3"})
    assert run() == "failed"
    assert s3_rows(s3_endpoint, s3_lake) == rows


def test_concurrent_writers_on_s3_land_every_row_once(
    s3_lake: str, s3_endpoint: str, fansly_conn: Emulator
) -> None:
    """One batch of all media offers and the same list re-cut in two, in three processes."""
    env = {"AIRFLOW_CONN_AWS_DEFAULT": os.environ["AIRFLOW_CONN_AWS_DEFAULT"]}
    window = (D0, D0 + 20 * DAY_MS)
    workers = [
        start_worker(s3_lake, fansly_conn, *window, ids=ids, env=env)
        for ids in (IDS, IDS[:2], IDS[2:])
    ]
    for worker in workers:
        finish(worker)
    truth_rows = truth(DEFAULT_ACCOUNT, IDS, *window, DAY_MS)
    assert s3_rows(s3_endpoint, s3_lake) == [r[:4] for r in truth_rows]


def test_duckdb_polars_and_pyarrow_read_the_same_totals_and_types(tmp_path: Path) -> None:
    for period in (DAY_MS, HOUR_MS):
        build_dag(
            media_offer_ids=IDS,
            output_path=str(tmp_path),
            after_date=D0,
            before_date=D0 + 4 * DAY_MS,
            period=period,
        ).test()
    uri = str(tmp_path / "media_stats")
    query = "select period_ms, count(*), sum(views), sum(unique_viewers) from t group by 1"
    with duckdb.connect() as con:  # offline: the delta extension cannot be downloaded here
        con.register("t", DeltaTable(uri).to_pyarrow_dataset())
        by_duckdb = con.sql(query).fetchall()
        duck_types = {r[0]: r[1] for r in con.sql("describe select * from t").fetchall()}
    frame = pl.scan_delta(uri).collect()
    by_polars = (
        frame.group_by("period_ms")
        .agg(pl.len(), pl.col("views").sum(), pl.col("unique_viewers").sum())
        .rows()
    )
    arrow = table(tmp_path)
    grouped = arrow.group_by("period_ms").aggregate(
        [("views", "count"), ("views", "sum"), ("unique_viewers", "sum")]
    )
    by_arrow = [
        (r["period_ms"], r["views_count"], r["views_sum"], r["unique_viewers_sum"])
        for r in grouped.to_pylist()
    ]
    expected = []
    for period in (HOUR_MS, DAY_MS):
        rows = truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 4 * DAY_MS, period)
        expected.append((period, len(rows), sum(r[3] for r in rows), sum(r[7] for r in rows)))
    assert sorted(by_duckdb) == sorted(by_polars) == sorted(by_arrow) == sorted(expected)
    assert duck_types["bucket_start"] == "TIMESTAMP WITH TIME ZONE" and duck_types["dt"] == "DATE"
    assert duck_types["period_ms"] == "BIGINT" and duck_types["stat_type"] == "INTEGER"
    assert frame.schema["bucket_start"] == pl.Datetime("us", "UTC")
    assert frame.schema["period_ms"] == pl.Int64
    assert frame.schema["dt"] == pl.Date and frame.schema["stat_type"] == pl.Int32
    assert str(arrow.schema.field("bucket_start").type) == "timestamp[us, tz=UTC]"
