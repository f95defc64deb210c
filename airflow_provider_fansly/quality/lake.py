"""The lake as the checks read it: only the columns and days each asks for, read once.

Every read goes through a pyarrow dataset of the Delta table's current version with a filter
on the partition columns (``period_ms``, ``dt``), so a check of the last weeks never opens
the files of older days, and a projection, so it never decodes the columns it does not use.
"""

from __future__ import annotations

from collections.abc import Iterator, Sequence
from dataclasses import dataclass, field
from datetime import date, timedelta
from functools import cached_property
from typing import Any

import polars as pl
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.dataset as ds
from deltalake import DeltaTable

from airflow_provider_fansly.client.windows import day_spans
from airflow_provider_fansly.quality.scope import Partition, Scope, groups, where
from airflow_provider_fansly.storage.delta import (
    FETCH_LOG_TABLE,
    MEDIA_STATS_TABLE,
    RESTATEMENTS_TABLE,
    TableSpec,
    open_table,
    table_at,
)
from airflow_provider_fansly.storage.fetch_log import (
    Coverage,
    covered_days,
    media_days,
    read_log,
)
from airflow_provider_fansly.storage.history import History, read_history
from airflow_provider_fansly.storage.location import Location

__all__ = ["LakeView"]

_AGGS = ("sum", "min", "max")
#: How many days of rows :meth:`LakeView.day_sums` holds at once.
SUM_DAYS = 1


@dataclass
class LakeView:
    """What the checks of one run see: the lake, the period, and the days ``[first, as_of)``.

    ``first`` is the start of the history the checks may read (``as_of - history_days``);
    each check narrows it to what it judges.
    """

    location: Location
    period: int
    first: date
    as_of: date
    #: what the whole-table checks read (default: every partition of the latest version)
    scope: Scope | None = field(default=None)

    @cached_property
    def snapshot(self) -> DeltaTable | None:
        """``media_stats`` at the version this view judges, the same for every check."""
        version = None if self.scope is None else self.scope.version
        if version is None:
            return open_table(self.location, MEDIA_STATS_TABLE)
        return table_at(self.location, MEDIA_STATS_TABLE, version)

    @property
    def judged(self) -> Scope:
        """The scope of the whole-table checks, resolved (a full pass when none was given)."""
        if self.scope is not None:
            return self.scope
        return Scope("full", None if self.snapshot is None else self.snapshot.version())

    @property
    def last(self) -> date:
        """The last day checked (``as_of`` is exclusive)."""
        return self.as_of - timedelta(days=1)

    @cached_property
    def _history(self) -> ds.Dataset | None:
        """``media_stats`` at the judged version, its files of the days read (from ``first``)
        listed once for every read of the history checks."""
        return self._stats_files([("dt", ">=", self.first.isoformat())])

    def _stats_files(self, pruning: list[tuple[str, str, Any]]) -> ds.Dataset | None:
        """``media_stats`` at the judged version as a dataset of the files ``pruning`` keeps
        (listing every file of an agency's table costs about 130 MiB)."""
        if self.snapshot is None:
            return None
        return self.snapshot.to_pyarrow_dataset(file_pruning_predicate=pruning)

    def _dataset(self, spec: TableSpec) -> ds.Dataset | None:
        table = open_table(self.location, spec)
        return None if table is None else table.to_pyarrow_dataset()

    def _days(self, period: int) -> pc.Expression:
        return (
            (pc.field("period_ms") == period)
            & (pc.field("dt") >= self.first)
            & (pc.field("dt") <= self.last)
        )

    def stats(self, columns: Sequence[str]) -> pl.DataFrame:
        """``media_stats`` rows of this run's period in the days, some columns."""
        return self._range(self.period, self.first, self.last, columns)

    def day_sums(self, period: int, columns: Sequence[str]) -> pl.DataFrame:
        """Per account, media offer and day, the sums of ``columns`` over a period's rows in
        the days, read :data:`SUM_DAYS` days at a time (four weeks of an agency's hourly rows
        are 13 million)."""
        keys = ["account_id", "media_offer_id", "dt"]
        parts = [
            self._range(period, start, end, [*keys, *columns])
            .group_by(keys)
            .agg(pl.col(c).sum() for c in columns)
            for start, end in day_spans(self.first, self.last, SUM_DAYS)
        ]
        return pl.concat(parts) if parts else self._range(period, self.first, self.first, [])

    def _range(self, period: int, first: date, last: date, columns: Sequence[str]) -> pl.DataFrame:
        """A period's ``media_stats`` rows of the days ``[first, last]``, some columns."""
        dataset = self._history
        schema = {c: MEDIA_STATS_TABLE.schema.field(c).type for c in columns}
        if dataset is None:
            return pl.DataFrame(pl.from_arrow(pa.schema(schema).empty_table()))
        wanted = (
            (pc.field("period_ms") == period) & (pc.field("dt") >= first) & (pc.field("dt") <= last)
        )
        scan = dataset.scanner(
            columns=list(columns), filter=wanted, batch_readahead=2, fragment_readahead=1
        )
        return pl.DataFrame(pl.from_arrow(scan.to_table()))

    def metrics(self, columns: Sequence[str]) -> tuple[int, list[tuple[str, float, float, float]]]:
        """Rows of this period in the days, and each column's (name, sum, min, max) over them."""
        frame = self.stats(columns)
        values = frame.select(
            *(getattr(pl.col(c), agg)().alias(f"{c}.{agg}") for c in columns for agg in _AGGS)
        ).row(0)
        figures = [float(v or 0) for v in values]
        per_column = [(c, *figures[i * 3 : i * 3 + 3]) for i, c in enumerate(columns)]
        return frame.height, per_column  # type: ignore[return-value]

    def stats_batches(self, columns: Sequence[str], rows: int) -> Iterator[pa.Table]:
        """The ``media_stats`` rows of the scope's partitions (all days and periods by
        default), in batches of about ``rows`` (a file gives its own small batches; they are
        gathered, since each call of a check has a fixed cost). A column an older release's
        table lacks reads null."""
        if self.snapshot is None:
            return
        present = [c for c in columns if c in pa.schema(self.snapshot.schema().to_arrow()).names]
        gathered: list[pa.RecordBatch] = []
        size = 0
        for group in groups(self.snapshot, self.judged):
            dataset = self._group(group)
            for batch in dataset.to_batches(columns=present, filter=where(group), batch_size=rows):
                gathered.append(batch)
                size += batch.num_rows
                if size >= rows:
                    yield _with_columns(pa.Table.from_batches(gathered), columns)
                    gathered, size = [], 0
        if gathered:
            yield _with_columns(pa.Table.from_batches(gathered), columns)

    def key_groups(self, columns: Sequence[str]) -> Iterator[pl.DataFrame]:
        """The key columns of the scope's rows, a bounded group of whole partitions at a time
        (a key's bucket lies in its partition: a duplicate never spans two groups)."""
        if self.snapshot is None:
            return
        for group in groups(self.snapshot, self.judged):
            table = self._group(group).to_table(columns=list(columns), filter=where(group))
            yield pl.DataFrame(pl.from_arrow(table))

    def _group(self, group: list[Partition]) -> ds.Dataset:
        """The files of a group of partitions, as a dataset."""
        days = sorted({day.isoformat() for _, day in group})
        dataset = self._stats_files([("dt", "in", days)])
        assert dataset is not None  # a group comes from the snapshot's own files
        return dataset

    @cached_property
    def coverage(self) -> Coverage:
        """(account, media offer, day) -> fetched or gone, from the fetch log, in the days."""
        return covered_days(self.location, self.period, self.first, self.last)

    def whole_days(self, period: int) -> pl.DataFrame:
        """(account, media offer, dt) of the days whose buckets of ``period`` were all fetched
        (one window or several parts covering the whole day; gone ones left out)."""
        held = media_days(read_log(self.location, period, self.first, self.last))
        return held.filter(pl.col("fetched")).select("account_id", "media_offer_id", "dt")

    @cached_property
    def fetch_log(self) -> pl.DataFrame:
        """The fetch log's rows of this period in the days (account, media offer, day, status)."""
        dataset = self._dataset(FETCH_LOG_TABLE)
        columns = ["account_id", "media_offer_id", "dt", "status"]
        if dataset is None:
            return pl.DataFrame(
                schema={
                    "account_id": pl.Utf8,
                    "media_offer_id": pl.Utf8,
                    "dt": pl.Date,
                    "status": pl.Utf8,
                }
            )
        table = dataset.to_table(columns=columns, filter=self._days(self.period))
        return pl.DataFrame(pl.from_arrow(table))

    @cached_property
    def history(self) -> History:
        """The period's whole fetch history: who is expected, where each account starts and
        its newest fetched day, however long ago (an outage must not fade from view)."""
        return read_history(self.location, self.period)

    def expected(self) -> dict[str, list[str]]:
        """Every media offer each account fetched by the last day, less those gone before
        the days."""
        return self.history.expected(self.first, self.last)

    def restatements(self) -> pl.DataFrame:
        """What commits of this period restated, for the days."""
        dataset = self._dataset(RESTATEMENTS_TABLE)
        if dataset is None:
            return pl.DataFrame()
        return pl.DataFrame(pl.from_arrow(dataset.to_table(filter=self._days(self.period))))


def _with_columns(table: pa.Table, columns: Sequence[str]) -> pa.Table:
    """``table`` with ``columns`` in order, those it lacks (an older table's) all null."""
    schema = MEDIA_STATS_TABLE.schema
    return pa.table(
        {
            c: table[c]
            if c in table.column_names
            else pa.nulls(table.num_rows, schema.field(c).type)
            for c in columns
        }
    )
