"""The fetch log: what each try of each task fetched, per media offer and UTC day.

It is what tells "fetched, nothing happened" (a quiet day: a log row, no data rows) from
"never fetched" (no log row). A task appends its rows right after its data commit; a task that
dies between the two leaves data the log does not claim, which coverage reports as a gap and
the rerun fetches again: the log never claims data that is not there.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date

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
    "TaskFetch",
    "covered_days",
    "log_rows",
    "media_days",
    "read_log",
]

_KEY = ["account_id", "media_offer_id", "dt"]
_COLUMNS = [*_KEY, "window_start", "window_end", "status", "fetched_at", "rows"]


#: (account, media offer, day) -> GONE when the latest answer for that day was "gone" (its
#: earlier rows are kept), else FETCHED when fetched windows cover the whole day; partly
#: fetched days are left out
Coverage = dict[tuple[str, str, date], str]


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
    rows: Counter[tuple[str, date]],
    requests: Counter[tuple[str, date]],
    status: str = FETCHED,
) -> pa.Table:
    """One row per media offer and day of the window (quiet days included).

    ``rows`` and ``requests`` count per (media offer, day); a request is counted on the day
    its window starts, so the column sums to what the task paid for.
    """
    after, before = task.window
    records = []
    for media in task.media_offer_ids:
        for day in days_of(after, before):
            start, end = day_bounds(day)
            records.append(
                {
                    "account_id": task.account_id,
                    "media_offer_id": media,
                    "period_ms": task.period,
                    "dt": day,
                    "window_start": max(start, after) * 1000,
                    "window_end": min(end, before) * 1000,
                    "run_id": task.run_id,
                    "try_number": task.try_number,
                    "requests": requests[(media, day)],
                    "rows": rows[(media, day)],
                    "fetched_at": task.fetched_at_ms * 1000,
                    "status": status,
                    "table_version": task.table_version,
                }
            )
    return pa.Table.from_pylist(records, schema=FETCH_LOG_SCHEMA)


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
