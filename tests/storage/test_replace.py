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
from airflow_provider_fansly.storage.files import Owned
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.replace import COMMIT_ID_KEY, replace_table, rows_added
from tests.storage.test_files import commit, expected, owned, read_back, rows

IDS = ["m1", "m2"]


def parquet_files(root: Path) -> set[str]:
    return {p.name for p in (root / "media_stats").rglob("*.parquet")}


def scripted_commits(
    monkeypatch: pytest.MonkeyPatch, *steps: tuple[bool, Exception | None]
) -> list[int]:
    """delta-rs's commits of prepared files follow ``steps``, one a call, the last repeating:
    whether it writes, then what it raises. Return the calls, one entry each."""
    real, calls = DeltaTable.create_write_transaction, []

    def create_write_transaction(self: DeltaTable, *args: object, **kwargs: object) -> None:
        writes, error = steps[min(len(calls), len(steps) - 1)]
        calls.append(1)
        if writes:
            real(self, *args, **kwargs)  # type: ignore[arg-type]
        if error is not None:
            raise error

    monkeypatch.setattr(DeltaTable, "create_write_transaction", create_write_transaction)
    monkeypatch.setattr(replace.time, "sleep", lambda _: None)
    return calls


def lake_of(root: Path) -> tuple[Location, pa.Table]:
    """A lake with one commit of two media offers over three days, and its rows."""
    location = Location.parse(str(root))
    base = rows("a1", IDS, 3, 1)
    commit(location, base, owned("a1", IDS, 0, 3))
    return location, base


def one_again(location: Location) -> tuple[pa.Table, Owned]:
    """The rows a task replacing the first media offer's three days commits."""
    return rows("a1", IDS[:1], 3, 9), owned("a1", IDS[:1], 0, 3)


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
    location, base = lake_of(tmp_path)
    alter(DeltaTable(str(tmp_path / "media_stats")))  # type: ignore[operator]
    version, files = DeltaTable(str(tmp_path / "media_stats")).version(), parquet_files(tmp_path)
    monkeypatch.setattr(replace, "check_writable", lambda table: None)
    calls = scripted_commits(monkeypatch, (True, None))
    with pytest.raises(FanslyLakeError, match="trying again cannot help") as raised:
        commit(location, *one_again(location))
    assert said in str(raised.value)
    assert len(calls) == 1
    assert DeltaTable(str(tmp_path / "media_stats")).version() == version
    assert parquet_files(tmp_path) == files and read_back(tmp_path) == expected(base)


def test_a_store_that_keeps_failing_is_tried_a_bounded_number_of_times(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    location, base = lake_of(tmp_path)
    files = parquet_files(tmp_path)
    calls = scripted_commits(monkeypatch, (False, OSError("Generic S3 error: connection reset")))
    with pytest.raises(FanslyLakeStoreError, match="failed the media_stats commit 5 times"):
        commit(location, *one_again(location))
    assert len(calls) == 5
    assert parquet_files(tmp_path) == files and read_back(tmp_path) == expected(base)


@pytest.mark.parametrize(
    ("first", "calls"),
    [
        ((False, OSError("Generic S3 error: connection reset before sending")), 2),
        ((True, CommitFailedError("Version 2 already exists")), 1),
    ],
    ids=["store-error-then-passes", "landed-but-reported-failed"],
)
def test_a_commit_lands_once_whatever_delta_rs_reported(
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
    first: tuple[bool, Exception],
    calls: int,
) -> None:
    """Either nothing was written and the next try lands, or it was and the log says so:
    version 2 either way, every file it names on disk, the rows exact."""
    location, base = lake_of(tmp_path)
    made = scripted_commits(monkeypatch, first, (True, None))
    again, task = one_again(location)
    done = commit(location, again, task)
    assert len(made) == calls and done.version == 2
    table = DeltaTable(str(tmp_path / "media_stats"))
    assert table.version() == 2
    assert {u.rsplit("/", 1)[1] for u in table.file_uris()} <= parquet_files(tmp_path)
    assert read_back(tmp_path) == expected(base.filter(~task.expression), again)


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
