"""Read the lake back for data-quality reporting: daily totals and coverage gaps.

Coverage is exact, not guessed from activity: the ``fetch_log`` table records each media
offer and day a task fetched and committed, so a quiet day counts as covered and a day never
fetched does not. Everything is read through Delta, never by listing data files (files a
commit removed stay on disk until vacuum).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow.dataset as ds

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.hooks.lake import lake_location
from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE, open_table
from airflow_provider_fansly.storage.discovery import cadence_of
from airflow_provider_fansly.storage.expectation import expectation, held_by_day
from airflow_provider_fansly.storage.fetch_log import covered_days
from airflow_provider_fansly.storage.history import read_history

__all__ = ["Gap", "coverage_gaps", "daily_totals", "open_dataset"]

DAILY_TOTALS = """
    select account_id, dt, count(*) as rows, sum(views) as views,
           sum(unique_viewers) as unique_viewers,
           round(sum(interaction_time_ms) / nullif(sum(unique_viewers), 0) / 1000, 1)
               as avg_engagement_s
    from stats where period_ms = {period}
    group by account_id, dt order by account_id, dt
"""


@dataclass(frozen=True)
class Gap:
    """Media offers of an account not fetched whole for a day; ``gone`` ones apart."""

    account_id: str
    day: date
    missing: tuple[str, ...]
    gone: tuple[str, ...] = ()

    def age_days(self, today: date) -> int:
        """Return how many days ago the uncovered day was."""
        return (today - self.day).days


def open_dataset(root: str, version: int | None = None) -> ds.Dataset:
    """Open ``media_stats`` (its latest version, or ``version``) as a pyarrow dataset.

    It holds exactly the rows of that version, with the partition columns ``period_ms`` and
    ``dt`` typed; register it in DuckDB or scan it with pyarrow.
    """
    location = lake_location(root)
    table = open_table(location, MEDIA_STATS_TABLE)
    if table is None:
        return ds.dataset(MEDIA_STATS_TABLE.schema.empty_table())
    if version is not None:
        table.load_as_version(version)
    return table.to_pyarrow_dataset()


def daily_totals(root: str, period: int = DAY_MS) -> list[dict[str, Any]]:
    """Per account and day: rows, views, unique viewers, average engagement (DuckDB)."""
    import duckdb

    with duckdb.connect() as con:
        con.register("stats", open_dataset(root))
        return con.sql(DAILY_TOTALS.format(period=int(period))).to_arrow_table().to_pylist()


def coverage_gaps(
    root: str,
    expected: dict[str, list[str]],
    first_day: date,
    last_day: date,
    period: int = DAY_MS,
) -> list[Gap]:
    """Return, per account and day in ``[first_day, last_day]``, the media offers not fetched.

    The days are judged as the quality checks and the page judge them
    (:mod:`.storage.expectation`), from ``first_day``: a media offer that answered gone is
    listed in ``gone`` on its first gone day, and later days no longer expect it.
    """
    location = lake_location(root)
    cadence = cadence_of(location, period, last_day)
    rule = expectation(read_history(location, period), expected, first_day, cadence, last_day)
    held = held_by_day(covered_days(location, period, first_day, last_day))
    gaps = []
    day = first_day
    while day <= last_day:
        for account in sorted(rule.media):
            judged = rule.judge(account, day, held.get((account, day), {}))
            if judged.missing or judged.gone:
                gaps.append(Gap(account, day, judged.missing, judged.gone))
        day += timedelta(days=1)
    return gaps
