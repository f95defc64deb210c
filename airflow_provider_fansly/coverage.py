"""Read the lake back for data-quality reporting: daily totals and coverage gaps.

Coverage is exact, not guessed from activity: a partition holds one file per key, and the
key's manifest under ``_keys/`` names the media offers that file was fetched for, so a quiet
day (an empty file) counts as covered and a day never fetched does not.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from typing import Any

import pyarrow.dataset as ds
from airflow.sdk import ObjectStoragePath

from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import PARTITION_SCHEMA
from airflow_provider_fansly.storage.store import Store
from airflow_provider_fansly.windows import DAY_MS

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
    """Media offers of an account with no published partition for a day."""

    account_id: str
    day: date
    missing: tuple[str, ...]

    def age_days(self, today: date) -> int:
        """Return how many days ago the uncovered day was."""
        return (today - self.day).days


def open_dataset(root: str | ObjectStoragePath) -> ds.Dataset:
    """Open ``media_stats/`` as a pyarrow dataset with typed Hive partitions (any store)."""
    store = Store(root)
    return ds.dataset(
        store.full(layout.MEDIA_STATS),
        filesystem=store.fs,
        format="parquet",
        partitioning=ds.partitioning(PARTITION_SCHEMA, flavor="hive"),
    )


def daily_totals(root: str | ObjectStoragePath, period: int = DAY_MS) -> list[dict[str, Any]]:
    """Per account and day: rows, views, unique viewers, average engagement (DuckDB)."""
    import duckdb

    with duckdb.connect() as con:
        con.register("stats", open_dataset(root))
        return con.sql(DAILY_TOTALS.format(period=int(period))).to_arrow_table().to_pylist()


def _covered(store: Store, period: int) -> dict[date, dict[str, set[str]]]:
    """Which media offers of which account have a file, per day."""
    manifests: dict[str, dict[str, Any]] = {}
    covered: dict[date, dict[str, set[str]]] = {}
    base = layout.period_dir(period)
    for part in store.listdir(base):
        day = layout.day_of_partition(part)
        for name in store.listdir(f"{base}/{part}"):
            key = layout.key_of_file(name)
            if key not in manifests:
                manifests[key] = store.read_json(layout.key_manifest(key))
            manifest = manifests[key]
            covered.setdefault(day, {}).setdefault(manifest["account_id"], set()).update(
                manifest["media_offer_ids"]
            )
    return covered


def coverage_gaps(
    root: str | ObjectStoragePath,
    expected: dict[str, list[str]],
    first_day: date,
    last_day: date,
    period: int = DAY_MS,
) -> list[Gap]:
    """Return, per account and day in ``[first_day, last_day]``, the media offers not fetched."""
    covered = _covered(Store(root), period)
    gaps = []
    day = first_day
    while day <= last_day:
        for account, ids in expected.items():
            have = covered.get(day, {}).get(account, set())
            missing = tuple(sorted(set(ids) - have))
            if missing:
                gaps.append(Gap(account, day, missing))
        day += timedelta(days=1)
    return gaps
