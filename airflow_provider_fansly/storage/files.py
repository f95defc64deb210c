"""``media_stats`` data files a task writes itself, and the files its rows replace.

delta-rs's writer keeps a Parquet writer open per partition until its commit, so every row
of a window sat in memory at once: a three-year task needed twice a month's memory. Here a
task writes its rows a bounded group of days at a time (:data:`GROUP_ROWS`), one file per
day; :mod:`.replace` then commits in one transaction the files it adds and the files its rows
replace (:func:`replaced`: a file that also holds other rows is rewritten without the
task's). Memory follows the group, not the window, and readers still see the whole window
change at once. Files of other Delta writers are read as this table's types
(:func:`conformed`), so a day any writer touched can be replaced.
"""

from __future__ import annotations

import functools
import json
import math
import operator
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
from deltalake import DeltaTable
from deltalake.transaction import AddAction, RemoveAction

from airflow_provider_fansly.client.windows import days_of
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.actions import live_files
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA, PARTITION_COLUMNS
from airflow_provider_fansly.storage.location import Location

__all__ = [
    "GROUP_ROWS",
    "Owned",
    "Rows",
    "conformed",
    "replaced",
    "row_count",
    "write_days",
    "write_file",
]

#: About how many rows one group of days holds in memory while its files are written.
GROUP_ROWS = 100_000
#: Columns without min/max statistics: free text, nobody filters on it.
_NO_BOUNDS = {"extra_stats"}
_DICTIONARY = ["account_id", "media_offer_id"]

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
        """The rows, as an Arrow filter: :func:`layout.replace_clauses`, as the predicate."""
        clauses = layout.replace_clauses(*self._args)
        return functools.reduce(operator.and_, (_arrow(c) for c in clauses))

    @property
    def predicate(self) -> str:
        """The rows, as the SQL predicate commits record (:func:`layout.replace_predicate`)."""
        return layout.replace_predicate(*self._args)

    @property
    def _args(self) -> tuple[str, tuple[str, ...], int, int, int]:
        return self.account_id, self.media_offer_ids, self.period, self.after, self.before

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


def _arrow(clause: layout.Clause) -> pc.Expression:
    """One clause as an Arrow filter (timestamps at the table's microseconds, UTC)."""
    column, op, value = clause
    field = pc.field(column)
    if op == "in":
        return field.isin(value)
    scalar = (
        pa.scalar(value, pa.timestamp("us", tz="UTC"))
        if isinstance(value, datetime)
        else pa.scalar(value)
    )
    return _COMPARE[op](field, scalar)


_COMPARE = {"=": operator.eq, ">=": operator.ge, "<=": operator.le, "<": operator.lt}


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
        lowest, highest = (_json(bounds[k]) for k in ("min", "max"))
        if _finite(lowest) and _finite(highest):  # JSON has no NaN: no bounds, as for nulls
            low[name], high[name] = lowest, highest
    nulls = {name: rows[name].null_count for name in rows.column_names}
    return {"numRecords": rows.num_rows, "minValues": low, "maxValues": high, "nullCount": nulls}


def _finite(value: Any) -> bool:
    return not isinstance(value, float) or math.isfinite(value)


def _json(value: pa.Scalar) -> Any:
    """A statistic as Delta's JSON writes it (timestamps ISO 8601 in UTC)."""
    plain = value.as_py()
    if isinstance(plain, datetime):
        return plain.astimezone(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")
    return plain


def replaced(
    location: Location, snapshot: DeltaTable, owned: Owned
) -> tuple[list[RemoveAction], list[AddAction]]:
    """Which files of ``snapshot`` hold rows ``owned`` selects (to remove), and the new files
    of the other rows some of them also hold (to add)."""
    removes: list[RemoveAction] = []
    rewritten: list[AddAction] = []
    for file in owned.may_hold(live_files(snapshot)).to_pylist():
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


def row_count(adds: Iterable[AddAction]) -> int:
    """The rows the added files hold (their statistics)."""
    return sum(int(json.loads(add.stats)["numRecords"]) for add in adds)


def _partition_values(file: dict[str, Any]) -> dict[str, str | None]:
    return {c: str(file[f"partition.{c}"]) for c in PARTITION_COLUMNS}


def _read(location: Location, file: dict[str, Any]) -> pa.Table:
    """One data file's rows, as the table's types, with its partition values as columns."""
    store = location.store
    with store.fs.open(store.full(f"{layout.MEDIA_STATS_DIR}/{file['path']}"), "rb") as fh:
        rows = conformed(pq.read_table(fh))
    count = rows.num_rows
    period = pa.array(np.full(count, int(file["partition.period_ms"])), pa.int64())
    day = pa.array([date.fromisoformat(str(file["partition.dt"]))] * count, pa.date32())
    return rows.append_column("period_ms", period).append_column("dt", day)


def conformed(rows: pa.Table) -> pa.Table:
    """Another Delta writer's file as the table's types: delta-rs's delete, update, merge and
    optimize and Polars write strings as ``string_view``, other engines large or dictionary
    types, and Arrow compares none of those with this path's ``string``."""
    target = pa.schema([f.with_type(_ROW_TYPES.get(f.name, _plain(f.type))) for f in rows.schema])
    return rows if target == rows.schema else rows.cast(target)


_ROW_TYPES = {f.name: f.type for f in MEDIA_STATS_SCHEMA}


def _plain(kind: pa.DataType) -> pa.DataType:
    """A column of a newer release's, in its plain type (view, large, dictionary undone)."""
    if pa.types.is_dictionary(kind):
        return _plain(kind.value_type)
    if pa.types.is_string_view(kind) or pa.types.is_large_string(kind):
        return pa.string()
    if pa.types.is_binary_view(kind) or pa.types.is_large_binary(kind):
        return pa.binary()
    return kind
