"""``media_stats`` data files a task writes itself, and the one commit that swaps them in.

delta-rs's writer keeps a Parquet writer open per partition until its commit, so every row
of a window sat in memory at once: a three-year task needed twice a month's memory. Here a
task writes its rows a bounded group of days at a time (:data:`GROUP_ROWS`), one file per
day, then commits in one transaction the files it adds and the files its rows replace; a file
that also holds other rows is rewritten without the task's. Memory follows the group, not
the window, and readers still see the whole window change at once.

delta-rs cannot be told what a commit of prepared files read, so its conflict check cannot
protect this one: each commit goes on top of exactly the snapshot it was prepared against
(``max_commit_retries=0``). When another commit got there first, the files that commit added
or removed are compared with what this one replaces (:func:`_touched`). Other accounts', media
offers' or days' files: the same actions go on top of the new snapshot (a rebase, nothing
redone). A file that may hold rows this task replaces, or a file it replaces that another
commit removed: a conflict, and the files to replace are worked out again from the new one.
"""

from __future__ import annotations

import json
import logging
import random
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from dataclasses import dataclass
from datetime import date, datetime, timezone
from functools import cached_property
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.parquet as pq
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import CommitFailedError
from deltalake.transaction import AddAction, RemoveAction

from airflow_provider_fansly.client.windows import days_of
from airflow_provider_fansly.exceptions import FanslyCommitConflictError
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA, PARTITION_COLUMNS
from airflow_provider_fansly.storage.delta import (
    MEDIA_STATS_TABLE,
    Commit,
    ConflictRetry,
    ensure_table,
)
from airflow_provider_fansly.storage.location import Location

__all__ = [
    "GROUP_ROWS",
    "ROWS_KEY",
    "Owned",
    "replace_files",
    "replace_table",
    "rows_added",
    "write_days",
    "write_file",
]

log = logging.getLogger(__name__)

#: About how many rows one group of days holds in memory while its files are written.
GROUP_ROWS = 100_000
#: How often a commit goes on top of a newer snapshot that touched nothing of its own.
_REBASES = 200
#: Columns without min/max statistics: free text, nobody filters on it.
_NO_BOUNDS = {"extra_stats"}
_DICTIONARY = ["account_id", "media_offer_id"]
_RETRY = ConflictRetry()
#: Where a commit of prepared files records the rows it added (delta-rs's own writer puts
#: them in ``operationMetrics.num_added_rows``; a prepared commit has no metrics).
ROWS_KEY = "fansly.rows_added"

#: The rows a group of days reads (``None``: all of them).
Rows = Callable[[pc.Expression | None], Iterable[pa.RecordBatch]]


@dataclass(frozen=True)
class Owned:
    """The ``media_stats`` rows one task replaces: its account, media offers, period, window."""

    account_id: str
    media_offer_ids: tuple[str, ...]
    period: int
    after: int
    before: int

    @cached_property
    def expression(self) -> pc.Expression:
        """The rows, as an Arrow filter (the same as :func:`layout.replace_predicate`)."""
        days = days_of(self.after, self.before)
        start, end = (_stamp(ms) for ms in (self.after, self.before))
        return (
            (pc.field("account_id") == self.account_id)
            & pc.field("media_offer_id").isin(sorted(set(self.media_offer_ids)))
            & (pc.field("period_ms") == int(self.period))
            & (pc.field("dt") >= pa.scalar(days[0]))
            & (pc.field("dt") <= pa.scalar(days[-1]))
            & (pc.field("bucket_start") >= start)
            & (pc.field("bucket_start") < end)
        )

    def may_hold(self, files: pa.Table) -> pa.Table:
        """The files (flattened add actions) whose partition and statistics allow such rows;
        a file without statistics always may."""
        days = days_of(self.after, self.before)
        ids = sorted(set(self.media_offer_ids))
        start, end = (_stamp(ms) for ms in (self.after, self.before))
        return files.filter(
            (pc.field("partition.period_ms") == self.period)
            & (pc.field("partition.dt") >= pa.scalar(days[0]))
            & (pc.field("partition.dt") <= pa.scalar(days[-1]))
            & _between("account_id", self.account_id, self.account_id)
            & _between("media_offer_id", ids[0], ids[-1])
            & _between("bucket_start", start, end, upper_open=True)
        )


def _stamp(ms: int) -> pa.Scalar:
    return pa.scalar(ms * 1000, pa.timestamp("us", tz="UTC"))


def _between(column: str, low: Any, high: Any, upper_open: bool = False) -> pc.Expression:
    """Whether a file's ``[min, max]`` of ``column`` meets ``[low, high]`` (or ``[low,
    high)``); unknown bounds meet everything."""
    lo, hi = pc.field(f"min.{column}"), pc.field(f"max.{column}")
    below = (lo < high) if upper_open else (lo <= high)
    return lo.is_null() | hi.is_null() | (below & (hi >= low))


def write_days(location: Location, rows: Rows, day_rows: Mapping[date, int]) -> list[AddAction]:
    """Write the rows into new files of the table, one per day, a group of days at a time.

    ``day_rows`` (rows per day, as fetched) only sizes the groups: the first group takes
    every day up to its last, the last every day after, so no row is left out.
    """
    bounds = _group_bounds(day_rows)
    adds: list[AddAction] = []
    for low, high in zip([None, *bounds], [*bounds, None], strict=True):
        where = _days_after(low, high)
        group = pa.Table.from_batches(list(rows(where)), schema=MEDIA_STATS_SCHEMA)
        adds.extend(write_file(location, part) for part in _by_partition(group))
    return adds


def _group_bounds(day_rows: Mapping[date, int]) -> list[date]:
    """The last day of every group but the last, each group about :data:`GROUP_ROWS` rows."""
    bounds, held = [], 0
    for day in sorted(day_rows):
        held += day_rows[day]
        if held >= GROUP_ROWS:
            bounds.append(day)
            held = 0
    return bounds[:-1] if bounds and bounds[-1] == max(day_rows) else bounds


def _days_after(low: date | None, high: date | None) -> pc.Expression | None:
    """The rows of the days in ``(low, high]``, either end open."""
    where = None
    if low is not None:
        where = pc.field("dt") > pa.scalar(low)
    if high is not None:
        upto = pc.field("dt") <= pa.scalar(high)
        where = upto if where is None else where & upto
    return where


def _by_partition(group: pa.Table) -> Iterable[pa.Table]:
    """The group's rows per (period, day), in the order they came (a batch's media offers
    together: each file's statistics bound its ids)."""
    if not group.num_rows:
        return
    period = group["period_ms"].to_numpy()
    day = group["dt"].cast(pa.int32()).to_numpy()
    order = np.lexsort((day, period))  # stable: by period, then day
    ordered = group.take(pa.array(order))
    period, day = period[order], day[order]
    edges = np.flatnonzero((np.diff(period) != 0) | (np.diff(day) != 0)) + 1
    for start, stop in zip([0, *edges], [*edges, ordered.num_rows], strict=True):
        yield ordered.slice(start, stop - start)


def write_file(location: Location, part: pa.Table) -> AddAction:
    """Write one partition's rows as one new data file; return its add action."""
    values = {"period_ms": str(part["period_ms"][0].as_py()), "dt": part["dt"][0].as_py()}
    values["dt"] = values["dt"].isoformat()
    rows = part.drop_columns(list(PARTITION_COLUMNS))
    path = f"period_ms={values['period_ms']}/dt={values['dt']}/part-{uuid.uuid4()}.snappy.parquet"
    sink = pa.BufferOutputStream()
    pq.write_table(rows, sink, compression="snappy", use_dictionary=_DICTIONARY)
    data = sink.getvalue()
    _put(location, path, data)
    return AddAction(
        path=path,
        size=data.size,
        partition_values=values,
        modification_time=int(time.time() * 1000),
        data_change=True,
        stats=json.dumps(_stats(rows), separators=(",", ":")),
    )


def _put(location: Location, path: str, data: pa.Buffer) -> None:
    store = location.store
    full = store.full(f"{layout.MEDIA_STATS_DIR}/{path}")
    store.fs.makedirs(full.rsplit("/", 1)[0], exist_ok=True)
    with store.fs.open(full, "wb") as fh:
        fh.write(memoryview(data))


def _stats(rows: pa.Table) -> dict[str, Any]:
    """Delta's per-file statistics: row count, and each column's nulls, minimum, maximum."""
    low: dict[str, Any] = {}
    high: dict[str, Any] = {}
    for name in rows.column_names:
        column = rows[name]
        if name in _NO_BOUNDS or column.null_count == len(column):
            continue
        bounds = pc.min_max(column)
        low[name], high[name] = (_json(bounds[k]) for k in ("min", "max"))
    nulls = {name: rows[name].null_count for name in rows.column_names}
    return {"numRecords": rows.num_rows, "minValues": low, "maxValues": high, "nullCount": nulls}


def _json(value: pa.Scalar) -> Any:
    """A statistic as Delta's JSON writes it (timestamps ISO 8601 in UTC)."""
    plain = value.as_py()
    if isinstance(plain, datetime):
        return plain.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return plain


def replace_files(
    location: Location,
    adds: list[AddAction],
    owned: Owned,
    metadata: dict[str, str],
    retry: ConflictRetry = _RETRY,
) -> Commit:
    """Commit ``adds`` and the removal of every row ``owned`` selects, in one transaction.

    On a conflict the files to replace are worked out again against the newer snapshot
    (``adds`` stay written); after ``retry.max_tries`` conflicts nothing is committed and
    the task's files are deleted.
    """
    for conflict in range(retry.max_tries):
        snapshot = ensure_table(location, MEDIA_STATS_TABLE)
        removes, rewritten = _replaced(location, snapshot, owned)
        version = _commit(location, snapshot, [*adds, *rewritten], removes, owned, metadata)
        if version is not None:
            return Commit(version, conflict)
        _delete(location, rewritten)
        wait = retry.delay(conflict)
        log.info(
            "the media_stats commit conflicted with a concurrent one over the same rows "
            "(try %d), retrying in %.2f s",
            conflict + 1,
            wait,
        )
        time.sleep(wait)
    _delete(location, adds)
    raise FanslyCommitConflictError(
        f"the media_stats commit conflicted with concurrent commits {retry.max_tries} times "
        "in a row; nothing of it was committed"
    )


def _files(table: DeltaTable) -> pa.Table:
    """The table's live data files with their partition values and statistics."""
    files = pa.table(table.get_add_actions(flatten=True))
    day = files.schema.get_field_index("partition.dt")
    return files.set_column(day, "partition.dt", files["partition.dt"].cast(pa.date32()))


def _replaced(
    location: Location, snapshot: DeltaTable, owned: Owned
) -> tuple[list[RemoveAction], list[AddAction]]:
    """Which files of ``snapshot`` hold rows ``owned`` selects (to remove), and the new files
    of the other rows some of them also hold (to add)."""
    removes: list[RemoveAction] = []
    rewritten: list[AddAction] = []
    for file in owned.may_hold(_files(snapshot)).to_pylist():
        rows = _read(location, file)
        replaced = rows.filter(owned.expression).num_rows
        if not replaced:
            continue
        removes.append(
            RemoveAction(
                path=file["path"],
                data_change=True,
                deletion_timestamp=int(time.time() * 1000),
                size=file["size_bytes"],
                partition_values=_partition_values(file),
            )
        )
        if replaced < rows.num_rows:
            rewritten.append(write_file(location, rows.filter(~owned.expression)))
    return removes, rewritten


def _partition_values(file: dict[str, Any]) -> dict[str, str | None]:
    return {c: str(file[f"partition.{c}"]) for c in PARTITION_COLUMNS}


def _read(location: Location, file: dict[str, Any]) -> pa.Table:
    """One data file's rows with its partition values as columns."""
    store = location.store
    with store.fs.open(store.full(f"{layout.MEDIA_STATS_DIR}/{file['path']}"), "rb") as fh:
        rows = pq.read_table(fh)
    count = rows.num_rows
    period = pa.array(np.full(count, int(file["partition.period_ms"])), pa.int64())
    day = pa.array([date.fromisoformat(str(file["partition.dt"]))] * count, pa.date32())
    return rows.append_column("period_ms", period).append_column("dt", day)


def _commit(
    location: Location,
    snapshot: DeltaTable,
    adds: list[AddAction],
    removes: list[RemoveAction],
    owned: Owned,
    metadata: dict[str, str],
) -> int | None:
    """Commit on top of ``snapshot``, or of a newer one that touched nothing ``owned``
    selects; return the version, or ``None`` on a conflict."""
    removed = {r.path for r in removes}
    properties = CommitProperties(
        custom_metadata={**metadata, ROWS_KEY: str(_rows(adds))}, max_commit_retries=0
    )
    listed: pa.Table | None = None  # the files of ``snapshot``, once a rebase listed them
    for _ in range(_REBASES):
        try:
            snapshot.create_write_transaction(
                [*adds, *removes],
                mode="append",
                schema=snapshot.schema(),
                partition_by=list(PARTITION_COLUMNS),
                commit_properties=properties,
            )
            return snapshot.version() + 1
        except CommitFailedError:
            newer = ensure_table(location, MEDIA_STATS_TABLE)
            before = _files(snapshot) if listed is None else listed
            listed = _files(newer)
            if _touched(before, listed, owned, removed):
                return None
            snapshot = newer
            time.sleep(random.uniform(0, 0.02))
    return None


def _rows(adds: list[AddAction]) -> int:
    """The rows the added files hold (their statistics), as Delta's own writer reports."""
    return sum(int(json.loads(add.stats)["numRecords"]) for add in adds)


def _touched(before: pa.Table, after: pa.Table, owned: Owned, removed: set[str]) -> bool:
    """Whether the commits between two listings of the table's files removed a file this
    commit removes, or added one that may hold rows it replaces."""
    gone = set(before["path"].to_pylist()) - set(after["path"].to_pylist())
    if gone & removed:
        return True
    fresh = after.filter(pc.invert(pc.is_in(after["path"], before["path"])))
    return owned.may_hold(fresh).num_rows > 0


def _delete(location: Location, adds: list[AddAction]) -> None:
    """Delete files no commit names (vacuum would, later)."""
    for add in adds:
        location.store.remove(f"{layout.MEDIA_STATS_DIR}/{add.path}")


def rows_added(entry: Mapping[str, Any]) -> int | None:
    """The rows a commit of the table's history added, whoever wrote it."""
    metrics = entry.get("operationMetrics") or {}
    found = metrics.get("num_added_rows", entry.get(ROWS_KEY))
    return None if found is None else int(found)


def replace_table(
    location: Location, rows: pa.Table, owned: Owned, metadata: dict[str, str]
) -> Commit:
    """Replace what ``owned`` selects with the rows of one table held in memory (tools,
    benchmarks): the task's own path, without a staging folder."""

    def read(where: pc.Expression | None) -> Iterable[pa.RecordBatch]:
        return (rows if where is None else rows.filter(where)).to_batches()

    days = pc.value_counts(rows["dt"]).to_pylist()
    adds = write_days(location, read, {d["values"]: d["counts"] for d in days})
    return replace_files(location, adds, owned, metadata)
