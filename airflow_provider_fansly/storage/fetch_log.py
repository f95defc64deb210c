"""The fetch log: what each try of each task fetched, per media offer and UTC day.

It is what tells "fetched, nothing happened" (a quiet day: a log row, no data rows) from
"never fetched" (no log row). A task appends its rows right after its data commit; a task that
dies between the two leaves data the log does not claim, which coverage reports as a gap and
the rerun fetches again: the log never claims data that is not there.
"""

from __future__ import annotations

from collections import Counter, defaultdict
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import FETCH_LOG_SCHEMA
from airflow_provider_fansly.storage.delta import FETCH_LOG, open_table
from airflow_provider_fansly.storage.layout import FETCHED, GONE, INVALID
from airflow_provider_fansly.storage.location import Location

__all__ = ["FETCHED", "GONE", "INVALID", "TaskFetch", "covered_days", "log_rows"]


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
        for day in layout.days_of(after, before):
            start, end = layout.day_bounds(day)
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


def covered_days(location: Location, period: int, first: date, last: date) -> Coverage:
    """Which (account, media offer, day) in ``[first, last]`` were fetched whole, or gone."""
    table = open_table(location, FETCH_LOG)
    if table is None:
        return {}
    wanted = (
        (pc.field("period_ms") == period) & (pc.field("dt") >= first) & (pc.field("dt") <= last)
    )
    found = table.to_pyarrow_dataset().to_table(
        filter=wanted,
        columns=[
            "account_id",
            "media_offer_id",
            "dt",
            "window_start",
            "window_end",
            "status",
            "fetched_at",
        ],
    )
    spans: dict[tuple[str, str, date], list[tuple[int, int]]] = defaultdict(list)
    latest: dict[tuple[str, str, date], tuple[object, str]] = {}
    for r in found.to_pylist():
        key, answer = (
            (r["account_id"], r["media_offer_id"], r["dt"]),
            (r["fetched_at"], r["status"]),
        )
        latest[key] = max(latest.get(key, answer), answer)
        if r["status"] == FETCHED:
            spans[key].append((_ms(r["window_start"]), _ms(r["window_end"])))
    gone = {k for k, (_, status) in latest.items() if status == GONE}
    covered = {k for k, parts in spans.items() if _covers(layout.day_bounds(k[2]), parts)}
    return {**dict.fromkeys(covered - gone, FETCHED), **dict.fromkeys(gone, GONE)}


def _ms(value: object) -> int:
    return int(value.timestamp() * 1000)  # type: ignore[attr-defined]


def _covers(day: tuple[int, int], parts: Iterable[tuple[int, int]]) -> bool:
    """Whether the union of ``parts`` covers all of ``[day)``."""
    reached = day[0]
    for start, end in sorted(parts):
        if start > reached:
            return False
        reached = max(reached, end)
    return reached >= day[1]
