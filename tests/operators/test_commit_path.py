"""The lake's own commit path through the operator: an ambiguous commit, a kill before the
table existed, files of other Delta writers, and tables this path refuses to write."""

from __future__ import annotations

import json
import os
import signal
import uuid
from collections.abc import Callable
from datetime import date
from pathlib import Path

import polars as pl
import pyarrow as pa
import pyarrow.parquet as pq
import pytest
from deltalake import DeltaTable, TableFeatures
from deltalake.exceptions import CommitFailedError
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.exceptions import FanslyLegacyLakeError
from airflow_provider_fansly.storage.legacy import convert
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from devtools.workers import finish, start_worker
from tests.conftest import LogText
from tests.lake import lake_rows, s3_options, snapshot, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["m1", "m2", "m3", "m4"]
WINDOW = {"after_date": D0, "before_date": D0 + 4 * DAY_MS}

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def run(lake: str, ids: list[str] = IDS) -> str:
    """One task over the window, through ``dag.test()``; its final state."""
    return str(build_dag(media_offer_ids=ids, output_path=lake, **WINDOW).test().state)


def delta(lake: str, options: dict[str, str] | None) -> DeltaTable:
    uri = lake if options is None else "s3://" + lake.split("@", 1)[1]
    return DeltaTable(f"{uri}/media_stats", storage_options=options)


def reported_failed_once(monkeypatch: pytest.MonkeyPatch, error: Exception) -> list[int]:
    """The first commit of prepared files lands, then delta-rs reports ``error`` (a retried
    PUT that found its own entry); return the versions such commits wrote."""
    real = DeltaTable.create_write_transaction
    landed: list[int] = []

    def commit(self: DeltaTable, *args: object, **kwargs: object) -> None:
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        landed.append(self.version() + 1)
        if len(landed) == 1:
            raise error

    monkeypatch.setattr(DeltaTable, "create_write_transaction", commit)
    return landed


@pytest.mark.parametrize(
    "error",
    [
        CommitFailedError("Version 2 already exists"),
        OSError("Generic LocalFileSystem error: the operation timed out"),
    ],
    ids=["already-exists", "store-error"],
)
def test_a_commit_that_lands_but_is_reported_failed_is_kept_whole(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, logs: LogText, error: Exception
) -> None:
    """Two of four media offers again: their days' files are rewritten without them, so the
    commit names files a wrong guess deletes (0.5 did, and the table no longer read)."""
    assert run(str(tmp_path)) == "success"
    landed = reported_failed_once(monkeypatch, error)
    assert run(str(tmp_path), IDS[:2]) == "success"
    table = DeltaTable(str(tmp_path / "media_stats"))
    assert landed == [table.version()], "the commit was made again"
    assert "but the log holds it as version 2: it landed" in logs()
    truth_rows = truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 4 * DAY_MS, DAY_MS)
    assert lake_rows(tmp_path) == truth_rows  # every file a version names is there


@pytest.mark.parametrize("store", ["local", "s3"])
def test_a_worker_whose_commit_landed_but_was_reported_failed_keeps_it(
    tmp_path: Path, fansly_conn: Emulator, request: pytest.FixtureRequest, store: str
) -> None:
    """The same in a worker process, on local disk and on the local S3."""
    lake, options, env = str(tmp_path), None, {}
    if store == "s3":
        lake = request.getfixturevalue("s3_lake")
        options = s3_options(request.getfixturevalue("s3_endpoint"))
        env = {"AIRFLOW_CONN_AWS_DEFAULT": os.environ["AIRFLOW_CONN_AWS_DEFAULT"]}
    window = (D0, D0 + 4 * DAY_MS)
    finish(start_worker(lake, fansly_conn, *window, ids=IDS, env=env))
    worker = start_worker(
        lake, fansly_conn, *window, ids=IDS[:2], env=env, reported_failed="Version 2 exists"
    )
    out, err = worker.communicate(timeout=180)
    assert worker.returncode == 0, err.decode()[-3000:]
    summary = json.loads(out.decode().strip().splitlines()[-1])
    assert "commit landed, reported failed" in err.decode()  # the case this test is about
    table = delta(lake, options)
    assert summary["table_version"] == 2 == table.version()  # found, not made twice
    assert lake_rows(lake, options=options) == truth(DEFAULT_ACCOUNT, IDS, *window, DAY_MS)


def test_a_worker_killed_at_its_first_data_file_in_a_new_lake_leaves_a_lake(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    """0.5 wrote data files before it created the table: this kill left a folder that every
    later task took for a 0.1 lake, for good."""
    window = (D0, D0 + 30 * DAY_MS)
    worker = start_worker(tmp_path, fansly_conn, *window, ids=IDS, kill_on_new_data_file=True)
    assert worker.wait(timeout=120) == -signal.SIGKILL
    assert DeltaTable(str(tmp_path / "media_stats")).version() == 0  # created first, empty
    assert any((tmp_path / "media_stats").rglob("*.parquet")), "killed before any data file"
    got = build_dag(media_offer_ids=IDS, output_path=str(tmp_path), after_date=window[0],
                    before_date=window[1]).test()  # fmt: skip
    assert str(got.state) == "success"
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, *window, DAY_MS)


def test_files_a_killed_0_5_task_left_without_a_log_are_no_0_1_lake_and_no_data(
    tmp_path: Path,
) -> None:
    folder = tmp_path / "media_stats" / f"period_ms={DAY_MS}" / "dt=2026-01-01"
    folder.mkdir(parents=True)
    pq.write_table(pa.table({"views": [999]}), folder / f"part-{uuid.uuid4()}.snappy.parquet")
    with pytest.raises(FanslyLegacyLakeError, match=r"holds no 0\.1 lake to convert"):
        convert(Location.parse(str(tmp_path)))
    assert run(str(tmp_path)) == "success"
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 4 * DAY_MS, DAY_MS)


def _delete_one(uri: str) -> None:
    DeltaTable(uri).delete("media_offer_id = 'm4'")


def _polars_rewrite(uri: str) -> None:
    frame = pl.read_delta(uri).filter(pl.col("dt") == date(2026, 1, 2))
    frame = frame.with_columns(pl.col("views") * 0)
    frame.write_delta(uri, mode="overwrite", delta_write_options={"predicate": "dt = '2026-01-02'"})


@pytest.mark.parametrize(
    "rewrite", [_delete_one, _polars_rewrite], ids=["delta-rs-delete", "polars"]
)
def test_days_another_delta_writer_rewrote_are_replaced_by_a_task(
    tmp_path: Path, rewrite: Callable[[str], None]
) -> None:
    """delta-rs's delete and Polars store strings as ``string_view``; 0.5 could not compare
    those with its own and failed every later commit over those days."""
    assert run(str(tmp_path)) == "success"
    uri = str(tmp_path / "media_stats")
    rewrite(uri)
    types = {str(pq.read_schema(u).field("account_id").type) for u in DeltaTable(uri).file_uris()}
    assert "string_view" in types  # the case this test is about
    assert lake_rows(tmp_path) != truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 4 * DAY_MS, DAY_MS)
    assert run(str(tmp_path)) == "success"
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 4 * DAY_MS, DAY_MS)


def _check_constraint(table: DeltaTable) -> None:
    table.alter.add_constraint({"views_counted": "views >= 0"})


def _append_only(table: DeltaTable) -> None:
    table.alter.set_table_properties({"delta.appendOnly": "true"})


def _deletion_vectors(table: DeltaTable) -> None:
    table.alter.add_feature(TableFeatures.DeletionVectors, allow_protocol_versions_increase=True)


@pytest.mark.parametrize(
    ("alter", "named"),
    [
        (_check_constraint, "CHECK constraint views_counted (views >= 0)"),
        (_append_only, "delta.appendOnly"),
        (_deletion_vectors, "table feature deletionVectors"),
    ],
    ids=["check-constraint", "append-only", "deletion-vectors"],
)
def test_a_table_this_path_cannot_write_is_refused_before_any_request(
    tmp_path: Path,
    fansly_conn: Emulator,
    logs: LogText,
    alter: Callable[[DeltaTable], None],
    named: str,
) -> None:
    assert run(str(tmp_path)) == "success"
    alter(DeltaTable(str(tmp_path / "media_stats")))
    before, sent = snapshot(tmp_path), fansly_conn.state.counts["requests"]
    assert run(str(tmp_path)) == "failed"
    assert fansly_conn.state.counts["requests"] == sent  # nothing bought
    assert snapshot(tmp_path) == before
    text = logs()
    assert (
        f"the Delta table media_stats uses what this provider's commit path cannot write: {named}"
        in text
    )
    assert "[not retried: the lake must be fixed first]" in text
