"""The fetch log: what each try of each task fetched, per media offer and UTC day.

It is what tells "fetched, nothing happened" (a quiet day: a log row, no data rows) from
"never fetched" (no log row). A task appends its rows right after its data commit; a task that
dies between the two leaves data the log does not claim, which coverage reports as a gap and
the rerun fetches again: the log never claims data that is not there.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

import numpy as np
import polars as pl
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_fansly.client.windows import day_bounds, days_of
from airflow_provider_fansly.storage.columns import FETCH_LOG_SCHEMA
from airflow_provider_fansly.storage.delta import FETCH_LOG_TABLE, open_table
from airflow_provider_fansly.storage.layout import FETCHED, GONE, INVALID
from airflow_provider_fansly.storage.location import Location

__all__ = [
    "FETCHED",
    "GONE",
    "INVALID",
    "DayCounts",
    "TaskFetch",
    "covered_days",
    "log_rows",
    "media_days",
    "read_log",
]

_KEY = ["account_id", "media_offer_id", "dt"]
_EPOCH_ORDINAL = date(1970, 1, 1).toordinal()
_COLUMNS = [*_KEY, "window_start", "window_end", "status", "fetched_at", "rows"]


#: (account, media offer, day) -> GONE when the latest answer for that day was "gone" (its
#: earlier rows are kept), else FETCHED when fetched windows cover the whole day; partly
#: fetched days are left out
Coverage = dict[tuple[str, str, date], str]


class DayCounts:
    """One task's counts (rows, requests) per media offer and UTC day of its window, in one
    array: the 219,000 cells of three years of 200 media offers took 28 MiB as a ``Counter``."""

    def __init__(self, media_offer_ids: Sequence[str], after: int, before: int) -> None:
        self.days = days_of(after, before)
        self._first = self.days[0].toordinal()
        self._index = {m: i for i, m in enumerate(dict.fromkeys(media_offer_ids))}
        self._counts = np.zeros((len(self._index), len(self.days)), np.int64)

    def add(self, media_offer_id: str, day: date, count: int) -> None:
        """Count ``count`` more for one media offer and day of the window."""
        self._counts[self._index[media_offer_id], day.toordinal() - self._first] += count

    def add_rows(self, rows: pa.Table) -> None:
        """Count each row of a ``media_stats`` table on its media offer and day."""
        media = pc.index_in(rows["media_offer_id"], value_set=pa.array(list(self._index)))
        if media.null_count:
            raise KeyError("rows of a media offer this task does not fetch")
        day = rows["dt"].cast(pa.int32()).to_numpy() - (self._first - _EPOCH_ORDINAL)
        np.add.at(self._counts, (media.to_numpy(), day), 1)

    def drop(self, media_offer_ids: Sequence[str]) -> None:
        """Forget the counts of these media offers."""
        for media in media_offer_ids:
            if media in self._index:
                self._counts[self._index[media]] = 0

    def __getitem__(self, key: tuple[str, date]) -> int:
        media, day = key
        row = self._index.get(media)
        return 0 if row is None else int(self._counts[row, day.toordinal() - self._first])

    def total(self) -> int:
        """Every count added."""
        return int(self._counts.sum())

    def per_day(self) -> dict[date, int]:
        """The counts of each day, all media offers together."""
        return dict(zip(self.days, self._counts.sum(axis=0).tolist(), strict=True))

    def grid(self, media_offer_ids: Sequence[str]) -> np.ndarray:
        """The counts of these media offers (none: 0) by day, media offer after media offer."""
        rows = [self._index.get(m) for m in media_offer_ids]
        known = np.array([r if r is not None else 0 for r in rows], dtype=np.intp)
        grid = self._counts[known] if len(rows) else np.zeros((0, len(self.days)), np.int64)
        grid[[r is None for r in rows]] = 0
        return grid.ravel()


@dataclass(frozen=True)
class TaskFetch:
    """What one try of one task fetched and committed, for its fetch log rows."""

    account_id: str
    media_offer_ids: Sequence[str]
    period: int
    window: tuple[int, int]
    run_id: str
    try_number: int
    fetched_at_ms: int
    #: the media_stats version of the task's commit, known once it committed
    table_version: int | None = None


def log_rows(
    task: TaskFetch,
    rows: DayCounts | None,
    requests: DayCounts | None,
    status: str = FETCHED,
) -> pa.Table:
    """One row per media offer and day of the window (quiet days included).

    ``rows`` and ``requests`` count per (media offer, day) (``None``: none); a request is
    counted on the day its window starts, so the column sums to what the task paid for.
    """
    after, before = task.window
    days = days_of(after, before)
    bounds = [day_bounds(day) for day in days]
    media = list(task.media_offer_ids)
    size = len(media) * len(days)

    def constant(value: object, kind: pa.DataType) -> pa.Array:
        return pa.repeat(pa.scalar(value, kind), size)

    def per_day(values: list[int]) -> pa.Array:
        return pa.array(np.tile(np.array(values, dtype=np.int64), len(media)))

    columns = {
        "account_id": constant(task.account_id, pa.string()),
        "media_offer_id": pa.array(np.repeat(np.array(media, dtype=object), len(days))),
        "period_ms": constant(task.period, pa.int64()),
        "dt": pa.array(days * len(media), pa.date32()),
        "window_start": per_day([max(start, after) * 1000 for start, _ in bounds]),
        "window_end": per_day([min(end, before) * 1000 for _, end in bounds]),
        "run_id": constant(task.run_id, pa.string()),
        "try_number": constant(task.try_number, pa.int64()),
        "requests": _counts(requests, media, size),
        "rows": _counts(rows, media, size),
        "fetched_at": constant(task.fetched_at_ms * 1000, pa.int64()),
        "status": constant(status, pa.string()),
        "table_version": constant(task.table_version, pa.int64()),
    }
    return pa.table(
        [columns[f.name].cast(f.type) for f in FETCH_LOG_SCHEMA], schema=FETCH_LOG_SCHEMA
    )


def _counts(counts: DayCounts | None, media: list[str], size: int) -> pa.Array:
    return pa.array(np.zeros(size, np.int64) if counts is None else counts.grid(media))


def read_log(
    location: Location, period: int, first: date | None = None, last: date | None = None
) -> pl.DataFrame:
    """The fetch log rows of a period (of the days in ``[first, last]`` when given), only the
    columns :func:`media_days` reads."""
    table = open_table(location, FETCH_LOG_TABLE)
    if table is None:
        return pl.DataFrame(pl.from_arrow(FETCH_LOG_SCHEMA.empty_table().select(_COLUMNS)))
    wanted = pc.field("period_ms") == period
    if first is not None and last is not None:
        wanted &= (pc.field("dt") >= first) & (pc.field("dt") <= last)
    found = table.to_pyarrow_dataset().to_table(columns=_COLUMNS, filter=wanted)
    return pl.DataFrame(pl.from_arrow(found))


def media_days(log: pl.DataFrame) -> pl.DataFrame:
    """One row per (account, media offer, day) of the log: ``gone`` when its latest answer
    was "gone", else ``fetched`` when fetched windows cover the whole day; and its most rows.

    A day one fetched window covers is whole at once; only the days fetched in parts (sub-daily
    windows) go through the sweep that looks for a hole between the parts.
    """
    day_start = pl.col("dt").cast(pl.Datetime("us", "UTC"))
    fetched = pl.col("status") == FETCHED
    per = log.group_by(_KEY).agg(
        # the latest answer; of two at the same instant, the greater status
        pl.col("status").sort_by("fetched_at", "status").last() == GONE,
        (
            fetched
            & (pl.col("window_start") <= day_start)
            & (pl.col("window_end") >= day_start + pl.duration(days=1))
        )
        .any()
        .alias("whole"),
        pl.col("rows").max(),
    )
    per = per.rename({"status": "gone"})
    parts = log.filter(fetched).join(per.filter(~pl.col("whole")), on=_KEY, how="semi")
    swept = per.join(_swept(parts), on=_KEY, how="left")
    return swept.select(
        *_KEY,
        pl.col("gone"),
        ((pl.col("whole") | pl.col("swept").fill_null(False)) & ~pl.col("gone")).alias("fetched"),
        pl.col("rows"),
    )


def _swept(parts: pl.DataFrame) -> pl.DataFrame:
    """Per (account, media offer, day) fetched in parts: whether the parts cover it all."""
    day_start = pl.col("dt").cast(pl.Datetime("us", "UTC"))
    spans = (
        parts.select(*_KEY, "window_start", "window_end")
        .unique()
        .sort(*_KEY, "window_start", "window_end")
        .with_columns(reached=pl.col("window_end").cum_max().shift(1).over(_KEY))
    )
    return spans.group_by(_KEY).agg(
        (
            (pl.col("window_start").min() <= day_start.first())
            & (pl.col("window_end").max() >= day_start.first() + pl.duration(days=1))
            & (pl.col("reached").is_null() | (pl.col("window_start") <= pl.col("reached"))).all()
        ).alias("swept")
    )


def covered_days(location: Location, period: int, first: date, last: date) -> Coverage:
    """Which (account, media offer, day) in ``[first, last]`` were fetched whole, or gone."""
    held = media_days(read_log(location, period, first, last))
    held = held.filter(pl.col("gone") | pl.col("fetched"))
    return {
        (account, media, day): GONE if gone else FETCHED
        for account, media, day, gone in held.select(*_KEY, "gone").iter_rows()
    }
