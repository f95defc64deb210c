"""The commit's outcome is read from the log: refusals end at once, store errors are bounded,
and a file is deleted only where the log shows no version names it."""

from __future__ import annotations

import json
import math
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable, TableFeatures
from deltalake.exceptions import CommitFailedError

from airflow_provider_fansly.exceptions import FanslyLakeError, FanslyLakeStoreError
from airflow_provider_fansly.storage import replace
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.replace import COMMIT_ID_KEY, replace_table, rows_added
from tests.storage.test_files import commit, expected, owned, read_back, rows

IDS = ["m1", "m2"]


def parquet_files(root: Path) -> set[str]:
    return {p.name for p in (root / "media_stats").rglob("*.parquet")}


def counted_commits(monkeypatch: pytest.MonkeyPatch, fail: Exception | None = None) -> list[int]:
    """Count delta-rs's commits of prepared files; with ``fail``, each raises it unwritten."""
    real, calls = DeltaTable.create_write_transaction, []

    def create_write_transaction(self: DeltaTable, *args: object, **kwargs: object) -> None:
        calls.append(1)
        if fail is not None:
            raise fail
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DeltaTable, "create_write_transaction", create_write_transaction)
    monkeypatch.setattr(replace.time, "sleep", lambda _: None)
    return calls


def _append_only(table: DeltaTable) -> None:
    table.alter.set_table_properties({"delta.appendOnly": "true"})


def _row_tracking(table: DeltaTable) -> None:
    table.alter.add_feature(TableFeatures.RowTracking, allow_protocol_versions_increase=True)


@pytest.mark.parametrize(
    ("alter", "said"),
    [
        (_append_only, "Delta table is append-only"),
        (_row_tracking, "Unsupported table features required: [RowTracking]"),
    ],
    ids=["append-only", "row-tracking"],
)
def test_a_refused_commit_is_raised_at_once_with_delta_rs_message(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, alter: object, said: str
) -> None:
    """Even past the task's own check (a property set after it): one try, no spin, and the
    files the commit wrote are gone. 0.5 tried 600 times, then called it a conflict."""
    location = Location.parse(str(tmp_path))
    base = rows("a1", IDS, 3, 1)
    commit(location, base, owned("a1", IDS, 0, 3))
    alter(DeltaTable(str(tmp_path / "media_stats")))  # type: ignore[operator]
    version, files = DeltaTable(str(tmp_path / "media_stats")).version(), parquet_files(tmp_path)
    monkeypatch.setattr(replace, "check_writable", lambda table: None)
    calls = counted_commits(monkeypatch)
    with pytest.raises(FanslyLakeError, match="trying again cannot help") as raised:
        commit(location, rows("a1", IDS[:1], 3, 9), owned("a1", IDS[:1], 0, 3))
    assert said in str(raised.value)
    assert len(calls) == 1
    assert DeltaTable(str(tmp_path / "media_stats")).version() == version
    assert parquet_files(tmp_path) == files and read_back(tmp_path) == expected(base)


def test_a_store_that_keeps_failing_is_tried_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = Location.parse(str(tmp_path))
    base = rows("a1", IDS, 3, 1)
    commit(location, base, owned("a1", IDS, 0, 3))
    files = parquet_files(tmp_path)
    calls = counted_commits(monkeypatch, OSError("Generic S3 error: connection reset"))
    with pytest.raises(FanslyLakeStoreError, match="failed the media_stats commit 5 times"):
        commit(location, rows("a1", IDS[:1], 3, 9), owned("a1", IDS[:1], 0, 3))
    assert len(calls) == 5
    assert parquet_files(tmp_path) == files and read_back(tmp_path) == expected(base)


def test_a_store_error_that_passes_commits_once(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = Location.parse(str(tmp_path))
    base = rows("a1", IDS, 3, 1)
    commit(location, base, owned("a1", IDS, 0, 3))
    real, calls = DeltaTable.create_write_transaction, []

    def flaky(self: DeltaTable, *args: object, **kwargs: object) -> None:
        calls.append(1)
        if len(calls) == 1:
            raise OSError("Generic S3 error: connection reset before the request was sent")
        real(self, *args, **kwargs)  # type: ignore[arg-type]

    monkeypatch.setattr(DeltaTable, "create_write_transaction", flaky)
    again = rows("a1", IDS[:1], 3, 9)
    done = commit(location, again, owned("a1", IDS[:1], 0, 3))
    assert len(calls) == 2 and done.version == 2
    kept = base.filter(~owned("a1", IDS[:1], 0, 3).expression)
    assert read_back(tmp_path) == expected(kept, again)


def test_the_commit_info_says_what_delta_rs_writer_would(tmp_path: Path) -> None:
    """The predicate, the task's own rows (not those copied into rewritten files), and the
    metrics Delta tools show; the same numbers ``fansly-lake history`` and the page show."""
    location = Location.parse(str(tmp_path))
    base = rows("a1", ["m1", "m2", "m3"], 3, 1)
    commit(location, base, owned("a1", ["m1", "m2", "m3"], 0, 3))
    again = rows("a1", ["m1"], 3, 9)
    task = owned("a1", ["m1"], 0, 3)
    replace_table(location, again, task, {"fansly.run_id": "r2"})
    entry = DeltaTable(str(tmp_path / "media_stats")).history(1)[0]
    assert entry["operationParameters"]["predicate"] == task.predicate
    metrics = entry["operationMetrics"]
    assert rows_added(entry) == metrics["num_added_rows"] == again.num_rows == 6
    assert metrics["num_copied_rows"] == 12  # m2 and m3, two types, three days
    assert metrics["num_removed_files"] == 3 and metrics["num_added_files"] == 6
    assert entry["fansly.run_id"] == "r2" and len(entry[COMMIT_ID_KEY]) == 36


def test_statistics_never_hold_nan(tmp_path: Path) -> None:
    location = Location.parse(str(tmp_path))
    data = rows("a1", IDS, 2, 1)
    index = data.schema.get_field_index("video_percent_watched_total")
    nan = pa.array([math.nan] * data.num_rows, pa.float64())
    data = data.set_column(index, data.schema.field(index), nan)
    commit(location, data, owned("a1", IDS, 0, 2))
    log = sorted((tmp_path / "media_stats" / "_delta_log").glob("*.json"))[-1]
    for line in log.read_text().splitlines():
        add = json.loads(line).get("add")
        if add:
            stats = json.loads(add["stats"], parse_constant=pytest.fail)
            assert "video_percent_watched_total" not in stats["minValues"]
    table = DeltaTable(str(tmp_path / "media_stats")).to_pyarrow_table()
    assert pc.all(pc.is_nan(table["video_percent_watched_total"])).as_py()


def test_a_commit_that_delta_rs_reports_failed_but_landed_is_not_made_twice(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location = Location.parse(str(tmp_path))
    base = rows("a1", IDS, 3, 1)
    commit(location, base, owned("a1", IDS, 0, 3))
    real, calls = DeltaTable.create_write_transaction, []

    def landed_then_failed(self: DeltaTable, *args: object, **kwargs: object) -> None:
        calls.append(1)
        real(self, *args, **kwargs)  # type: ignore[arg-type]
        raise CommitFailedError("Version 2 already exists")

    monkeypatch.setattr(DeltaTable, "create_write_transaction", landed_then_failed)
    again = rows("a1", IDS[:1], 3, 9)
    done = commit(location, again, owned("a1", IDS[:1], 0, 3))
    assert len(calls) == 1 and done.version == 2
    table = DeltaTable(str(tmp_path / "media_stats"))
    assert table.version() == 2
    on_disk = parquet_files(tmp_path)
    assert {u.rsplit("/", 1)[1] for u in table.file_uris()} <= on_disk
    kept = base.filter(~owned("a1", IDS[:1], 0, 3).expression)
    assert read_back(tmp_path) == expected(kept, again)


def test_delta_rs_own_writes_refused_without_a_race_are_not_retried(tmp_path: Path) -> None:
    """The other tables go through delta-rs's writer: an append-only ``fyp_tags`` refuses a
    predicate overwrite at once, not after 25 tries reported as conflicts."""
    from airflow_provider_fansly.storage.delta import FYP_TAGS_TABLE, ensure_table, replace_tags

    location = Location.parse(str(tmp_path))
    table = ensure_table(location, FYP_TAGS_TABLE)
    table.alter.set_table_properties({"delta.appendOnly": "true"})
    tags = FYP_TAGS_TABLE.schema.empty_table()
    with pytest.raises(FanslyLakeError, match="no other commit came in between") as raised:
        replace_tags(location, tags, "account_id = 'a1'")
    assert "append-only" in str(raised.value)
