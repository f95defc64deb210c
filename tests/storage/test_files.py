"""A task's own data files and the one commit that swaps them in (``storage/files.py``,
``storage/replace.py``).

Read back through delta-rs and DataFusion, as users read the lake: every row once, one file
per day however many groups wrote them, statistics that prune correctly, and a commit that
goes on top of unrelated commits but works its files out again over a conflicting one.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pytest
from deltalake import DeltaTable, QueryBuilder

from airflow_provider_fansly.client.datapoints import COUNT_COLUMNS
from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.storage import files, replace
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA
from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE, Commit, ensure_table
from airflow_provider_fansly.storage.files import Owned
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.replace import replace_table, rows_added

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z


def rows(account: str, ids: list[str], days: int, views: int) -> pa.Table:
    """One row per media offer, day and stat type (0, 1), ``views`` in every count."""
    n = len(ids) * days * 2
    media = np.repeat(np.array(ids, dtype=object), days * 2)
    day = np.tile(np.repeat(np.arange(days), 2), len(ids))
    counts = pa.array(np.full(n, views, dtype=np.int64))
    stamp = pa.array((D0 + day * DAY_MS) * 1000, pa.int64()).cast(pa.timestamp("us", tz="UTC"))
    columns = {
        "account_id": pa.array([account] * n),
        "media_offer_id": pa.array(media, pa.string()),
        "bucket_start": stamp,
        "stat_type": pa.array(np.tile([0, 1], n // 2), pa.int32()),
        **dict.fromkeys(COUNT_COLUMNS, counts),
        "fetched_at": stamp,
        "period_ms": pa.array(np.full(n, DAY_MS, dtype=np.int64)),
        "dt": stamp.cast(pa.date32()),
    }
    extra = {f.name: pa.nulls(n, f.type) for f in MEDIA_STATS_SCHEMA if f.name not in columns}
    return pa.table({**columns, **extra}).select(MEDIA_STATS_SCHEMA.names).cast(MEDIA_STATS_SCHEMA)


def commit(location: Location, data: pa.Table, owned: Owned) -> Commit:
    """Write and commit ``data`` as a task owning ``owned`` would."""
    return replace_table(location, data, owned, {"fansly.test": "1"})


def owned(account: str, ids: list[str], first: int, days: int) -> Owned:
    return Owned(account, tuple(ids), DAY_MS, D0 + first * DAY_MS, D0 + (first + days) * DAY_MS)


def read_back(root: Path) -> list[tuple[object, ...]]:
    got = DeltaTable(str(root / "media_stats")).to_pyarrow_table()
    keys = ["account_id", "media_offer_id", "bucket_start", "stat_type", "views"]
    return sorted(zip(*(got[k].to_pylist() for k in keys), strict=True))


def expected(*tables: pa.Table) -> list[tuple[object, ...]]:
    return sorted(
        row
        for t in tables
        for row in zip(
            *(t[k].to_pylist() for k in ("account_id", "media_offer_id", "bucket_start")),
            t["stat_type"].to_pylist(),
            t["views"].to_pylist(),
            strict=True,
        )
    )


def test_a_long_window_in_many_groups_lands_once_one_file_per_day(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(files, "GROUP_ROWS", 50)  # 4 media offers x 2 types: 6 days a group
    location = Location.parse(str(tmp_path))
    ids = [f"m{i}" for i in range(4)]
    first = rows("a1", ids, 40, 1)
    done = commit(location, first, owned("a1", ids, 0, 40))
    assert read_back(tmp_path) == expected(first)
    table = DeltaTable(str(tmp_path / "media_stats"))
    assert len(table.file_uris()) == 40  # one per day, whatever group wrote it
    assert done.version == table.version() == 1 and done.retries == 0
    assert table.history(1)[0]["fansly.test"] == "1"
    assert rows_added(table.history(1)[0]) == first.num_rows  # what history and the page show
    # a rerun of two media offers over ten days rewrites those days' files without them
    again = rows("a1", ids[:2], 10, 7).filter(pc.field("dt") >= date(2026, 1, 1))
    commit(location, again, owned("a1", ids[:2], 0, 10))
    kept = first.filter(~owned("a1", ids[:2], 0, 10).expression)
    assert read_back(tmp_path) == expected(kept, again)


def test_statistics_prune_exactly_what_datafusion_and_delta_rs_would(tmp_path: Path) -> None:
    location = Location.parse(str(tmp_path))
    ids = [f"m{i:02d}" for i in range(12)]
    data = rows("a1", ids, 5, 3)
    commit(location, data, owned("a1", ids, 0, 5))
    table = DeltaTable(str(tmp_path / "media_stats"))
    actions = pa.table(table.get_add_actions(flatten=True))
    assert actions["min.bucket_start"].null_count == 0  # delta-rs read our statistics
    assert actions["max.media_offer_id"].to_pylist() == ["m11"] * 5
    day = datetime(2026, 1, 3, tzinfo=timezone.utc)
    query = (
        "SELECT count(*) AS n FROM s WHERE media_offer_id = 'm05' "
        "AND bucket_start = TIMESTAMP '2026-01-03T00:00:00Z'"
    )
    answer = QueryBuilder().register("s", table).execute(query)
    found = pa.RecordBatchReader.from_stream(answer).read_all()["n"][0].as_py()
    truth = data.filter((pc.field("media_offer_id") == "m05") & (pc.field("bucket_start") == day))
    assert found == truth.num_rows == 2


@pytest.mark.parametrize(("other_account", "conflicts"), [("a2", 0), ("a1", 1)])
def test_a_commit_goes_over_unrelated_commits_and_replans_over_its_own_rows(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch, other_account: str, conflicts: int
) -> None:
    """Another commit lands between this one's plan and its commit: rows of another account
    are no conflict (the same commit goes on top); the same rows are, and the plan is made
    again, so the table ends with this commit's rows only, never both."""
    location = Location.parse(str(tmp_path))
    ids = ["m1", "m2"]
    base = rows("a1", ids, 3, 1)
    commit(location, base, owned("a1", ids, 0, 3))
    other = rows(other_account, ids, 3, 5)
    ours = rows("a1", ids, 3, 9)
    plan = replace.replaced
    raced = []

    def racing(*args: object) -> object:
        planned = plan(*args)  # type: ignore[arg-type]
        if not raced:  # the other task commits after this plan, once
            raced.append(True)
            commit(location, other, owned(other_account, ids, 0, 3))
        return planned

    monkeypatch.setattr(replace, "replaced", racing)
    done = commit(location, ours, owned("a1", ids, 0, 3))
    assert done.retries == conflicts
    assert done.version == 3 == ensure_table(location, MEDIA_STATS_TABLE).version()
    assert read_back(tmp_path) == expected(ours, other) if other_account == "a2" else expected(ours)


@pytest.mark.parametrize("first", [0, 2])
def test_the_arrow_filter_and_the_sql_predicate_select_the_same_rows(
    tmp_path: Path, first: int
) -> None:
    """The commit path replaces what ``Owned.expression`` selects; its commit info and the
    restatements record ``Owned.predicate``: DataFusion must select exactly the same rows."""
    location = Location.parse(str(tmp_path))
    data = pa.concat_tables([rows("a1", ["m1", "m2", "m3"], 6, 1), rows("a2", ["m1", "m2"], 6, 2)])
    commit(location, data, owned("a1", ["m1", "m2", "m3"], 0, 6))
    commit(location, data.filter(pc.field("account_id") == "a2"), owned("a2", ["m1", "m2"], 0, 6))
    task = owned("a1", ["m2", "m3"], first, 3)
    table = DeltaTable(str(tmp_path / "media_stats"))
    query = f"SELECT media_offer_id, bucket_start, stat_type FROM s WHERE {task.predicate}"
    answer = QueryBuilder().register("s", table).execute(query)
    by_sql = pa.RecordBatchReader.from_stream(answer).read_all()
    by_arrow = table.to_pyarrow_table().filter(task.expression)
    assert by_arrow.num_rows == 2 * 3 * 2  # two media offers, three days, two stat types
    keys = ["media_offer_id", "bucket_start", "stat_type"]
    assert sorted(by_sql.select(keys).to_pylist(), key=str) == sorted(
        by_arrow.select(keys).to_pylist(), key=str
    )
