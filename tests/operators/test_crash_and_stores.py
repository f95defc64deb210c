"""A killed worker, an S3 lake, and the readers analysts use."""

from __future__ import annotations

import json
import os
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import duckdb
import polars as pl
import pyarrow.dataset as ds
import pyarrow.parquet as pq
import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.storage.columns import PARTITION_SCHEMA
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY, Emulator
from airflow_provider_fansly.windows import DAY_MS, HOUR_MS
from tests.lake import lake_rows, snapshot, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["m1", "m2", "m3", "m4"]

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")

WORKER = """
import json, os, signal, sys
from airflow_provider_fansly.operators.media_stats import MediaStatsOperator
from airflow_provider_fansly.storage.store import Store
args = json.loads(sys.argv[1])
if args["kill_after_moves"]:
    moves, real_move = [0], Store.move
    def move(self, src, dst):
        real_move(self, src, dst)
        moves[0] += 1
        if moves[0] == args["kill_after_moves"]:
            os.kill(os.getpid(), signal.SIGKILL)
    Store.move = move
MediaStatsOperator(task_id="crash", account_id=args["account"], media_offer_ids=args["ids"],
                   output_path=args["lake"], after_date=args["after"], before_date=args["before"],
                   max_in_flight=1).execute({})
"""


def start_worker(
    lake: Path, emu: Emulator, after: int, before: int, kill_after_moves: int = 0
) -> subprocess.Popen[bytes]:
    args = {
        "account": DEFAULT_ACCOUNT,
        "ids": IDS,
        "lake": str(lake),
        "after": after,
        "before": before,
        "kill_after_moves": kill_after_moves,
    }
    env = {
        **os.environ,
        "AIRFLOW_CONN_FANSLY_DEFAULT": json.dumps(
            {"conn_type": "fansly", "host": emu.url, "password": DEFAULT_KEY}
        ),
    }
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(args)],
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )


def readable(lake: Path) -> None:
    for file in lake.rglob("*.parquet"):
        if "_staging" not in file.parts:
            pq.read_table(file)  # a torn file would raise here


def test_worker_killed_while_fetching_leaves_the_lake_as_it_was(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    build_dag(
        media_offer_ids=IDS, output_path=str(tmp_path), after_date=D0, before_date=D0 + 120 * DAY_MS
    ).test()
    before = snapshot(tmp_path)
    fansly_conn.config.latency = 0.2
    worker = start_worker(tmp_path, fansly_conn, D0 + 60 * DAY_MS, D0 + 300 * DAY_MS)
    deadline = time.monotonic() + 60
    while not list((tmp_path / "_staging").rglob("*.parquet")) and time.monotonic() < deadline:
        time.sleep(0.02)
    worker.send_signal(signal.SIGKILL)
    assert worker.wait(timeout=30) == -signal.SIGKILL
    assert list((tmp_path / "_staging").rglob("*.parquet")), "the worker died before staging"
    assert snapshot(tmp_path) == before
    fansly_conn.config.latency = 0
    build_dag(
        media_offer_ids=IDS,
        output_path=str(tmp_path),
        after_date=D0 + 60 * DAY_MS,
        before_date=D0 + 300 * DAY_MS,
    ).test()
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 300 * DAY_MS, DAY_MS)


def test_worker_killed_while_publishing_leaves_no_torn_file_and_the_rerun_completes(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    worker = start_worker(tmp_path, fansly_conn, D0, D0 + 20 * DAY_MS, kill_after_moves=7)
    assert worker.wait(timeout=60) == -signal.SIGKILL
    published = list((tmp_path / "media_stats").rglob("*.parquet"))
    assert len(published) == 7
    readable(tmp_path)
    build_dag(
        media_offer_ids=IDS, output_path=str(tmp_path), after_date=D0, before_date=D0 + 20 * DAY_MS
    ).test()
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 20 * DAY_MS, DAY_MS)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


@pytest.fixture(scope="module")
def s3_endpoint() -> Iterator[str]:
    from moto.server import ThreadedMotoServer

    port = _free_port()
    server = ThreadedMotoServer(ip_address="127.0.0.1", port=port, verbose=False)
    server.start()
    yield f"http://127.0.0.1:{port}"
    server.stop()


@pytest.fixture
def s3_lake(s3_endpoint: str, monkeypatch: pytest.MonkeyPatch) -> str:
    import boto3

    for name in ("AWS_ACCESS_KEY_ID", "AWS_SECRET_ACCESS_KEY"):
        monkeypatch.setenv(name, "testing")
    monkeypatch.setenv(
        "AIRFLOW_CONN_AWS_DEFAULT",
        json.dumps(
            {
                "conn_type": "aws",
                "login": "testing",
                "password": "testing",
                "extra": {"endpoint_url": s3_endpoint, "region_name": "us-east-1"},
            }
        ),
    )
    bucket = f"lake-{int(time.time() * 1000)}"
    boto3.client("s3", endpoint_url=s3_endpoint, region_name="us-east-1").create_bucket(
        Bucket=bucket
    )
    return f"s3://aws_default@{bucket}/fansly"


def _s3_rows(s3_endpoint: str, lake: str) -> list[tuple[object, ...]]:
    import s3fs

    fs = s3fs.S3FileSystem(key="testing", secret="testing", endpoint_url=s3_endpoint)
    table = ds.dataset(
        lake.split("@", 1)[1] + "/media_stats",
        filesystem=fs,
        format="parquet",
        partitioning=ds.partitioning(PARTITION_SCHEMA, flavor="hive"),
    ).to_table()
    return sorted(
        (r["media_offer_id"], int(r["bucket_start"].timestamp() * 1000), r["stat_type"], r["views"])
        for r in table.to_pylist()
    )


def test_an_s3_lake_gets_the_same_rows_and_a_failed_run_changes_nothing(
    s3_lake: str, s3_endpoint: str, fansly_conn: Emulator
) -> None:
    def run() -> str:
        window = {"after_date": D0, "before_date": D0 + 5 * DAY_MS}
        return str(build_dag(media_offer_ids=IDS, output_path=s3_lake, **window).test().state)

    assert run() == "success"
    rows = _s3_rows(s3_endpoint, s3_lake)
    assert rows == [r[:4] for r in truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 5 * DAY_MS, DAY_MS)]
    fansly_conn.add_faults({"kind": "negative_counts", "media": "m3"})
    assert run() == "failed"
    assert _s3_rows(s3_endpoint, s3_lake) == rows


def test_duckdb_polars_and_pyarrow_read_the_same_totals_and_types(tmp_path: Path) -> None:
    for period in (DAY_MS, HOUR_MS):
        build_dag(
            media_offer_ids=IDS,
            output_path=str(tmp_path),
            after_date=D0,
            before_date=D0 + 4 * DAY_MS,
            period=period,
        ).test()
    glob = f"{tmp_path}/media_stats/**/*.parquet"
    query = (
        "select period_ms, count(*), sum(views), sum(unique_viewers) from t group by 1 order by 1"
    )
    by_duckdb = duckdb.sql(
        query.replace("from t", f"from read_parquet('{glob}', hive_partitioning=true)")
    ).fetchall()
    frame = pl.scan_parquet(glob, hive_partitioning=True).collect()
    by_polars = sorted(
        frame.group_by("period_ms")
        .agg(pl.len(), pl.col("views").sum(), pl.col("unique_viewers").sum())
        .rows()
    )
    table = ds.dataset(
        str(tmp_path / "media_stats"),
        format="parquet",
        partitioning=ds.partitioning(PARTITION_SCHEMA, flavor="hive"),
    ).to_table()
    grouped = (
        table.group_by("period_ms")
        .aggregate([("views", "count"), ("views", "sum"), ("unique_viewers", "sum")])
        .to_pylist()
    )
    by_arrow = [
        (r["period_ms"], r["views_count"], r["views_sum"], r["unique_viewers_sum"]) for r in grouped
    ]
    expected = []
    for period in (HOUR_MS, DAY_MS):
        rows = truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 4 * DAY_MS, period)
        expected.append((period, len(rows), sum(r[3] for r in rows), sum(r[7] for r in rows)))
    assert sorted(by_duckdb) == sorted(by_polars) == sorted(expected)
    assert sorted(by_arrow) == sorted(expected)
    described = duckdb.sql(f"describe select * from read_parquet('{glob}', hive_partitioning=true)")
    duck_types = {r[0]: r[1] for r in described.fetchall()}
    assert duck_types["bucket_start"] == "TIMESTAMP WITH TIME ZONE" and duck_types["dt"] == "DATE"
    assert duck_types["period_ms"] == "BIGINT" and duck_types["stat_type"] == "INTEGER"
    assert (
        frame.schema["bucket_start"] == pl.Datetime("ms", "UTC")
        and frame.schema["period_ms"] == pl.Int64
    )
    assert frame.schema["dt"] == pl.Date and frame.schema["stat_type"] == pl.Int32
    assert str(table.schema.field("bucket_start").type) == "timestamp[ms, tz=UTC]"
