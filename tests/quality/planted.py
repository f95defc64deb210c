"""A clean lake of four weeks, written through the real Delta tables, and one defect at a time.

Each (account, media offer, day) of the window is fetched, with steady numbers and three stat
types, so every check passes on it; the ``plant_*`` helpers add exactly one defect each.
"""

from __future__ import annotations

from datetime import date, datetime, time, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.storage.delta import (
    FETCH_LOG_TABLE,
    MEDIA_STATS_TABLE,
    TableSpec,
    append,
)
from airflow_provider_fansly.storage.fetch_log import DayCounts, TaskFetch, log_rows
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.testing.synthetic import hour_share

AS_OF = date(2026, 3, 1)  # exclusive: the last day checked is 2026-02-28
DAYS = 28
ACCOUNTS = {"acct_a": ["a1", "a2", "a3", "a4", "a5"], "acct_b": ["b1", "b2", "b3"]}
STAT_TYPES = (0, 1, 2)


def day(n: int) -> date:
    """The n-th day before ``AS_OF`` (1 = the last day checked)."""
    return AS_OF - timedelta(days=n)


def _at(d: date, hour: int = 0) -> datetime:
    return datetime.combine(d, time(hour), timezone.utc)


def stat_row(account: str, media: str, d: date, kind: int, **override: Any) -> dict[str, Any]:
    """One daily row with steady numbers (a few percent of variation)."""
    views = 100 + (d.toordinal() * 7 + hash_of(media) * 3 + kind) % 11
    row = {
        "account_id": account,
        "media_offer_id": media,
        "bucket_start": _at(d),
        "stat_type": kind,
        "views": views,
        "preview_views": 20,
        "interaction_time_ms": views * 1000,
        "preview_interaction_time_ms": 5000,
        "unique_viewers": views // 2,
        "preview_unique_viewers": 10,
        "fetched_at": _at(AS_OF),
        "period_ms": DAY_MS,
        "dt": d,
    }
    return {**row, **override}


def hash_of(text: str) -> int:
    return sum(map(ord, text))


def log_row(
    account: str,
    media: str,
    d: date,
    status: str = "fetched",
    period: int = DAY_MS,
    hours: range = range(24),
    rows: int = 3,
) -> dict[str, Any]:
    """The fetch log row a task writes for one media offer's day, made by the provider's own
    :func:`log_rows`: a request and ``rows`` rows over ``hours`` of the day."""
    start = int(_at(d).timestamp() * 1000)
    window = (start + hours.start * HOUR_MS, start + hours.stop * HOUR_MS)
    fetched_at = int(_at(AS_OF).timestamp() * 1000)
    task = TaskFetch(account, [media], period, window, "planted", 1, fetched_at, table_version=0)
    held, requests = DayCounts([media], *window), DayCounts([media], *window)
    held.add(media, d, rows)
    requests.add(media, d, 1)
    return log_rows(task, held, requests, status).to_pylist()[0]


def hourly_log(account: str, media: str, d: date, hours: range = range(24)) -> dict[str, Any]:
    """The fetch log row of an hourly task that fetched ``hours`` of a day."""
    return log_row(account, media, d, period=HOUR_MS, hours=hours)


def write(lake: Path, spec: TableSpec, rows: list[dict[str, Any]]) -> None:
    """Append rows to one of the lake's tables (a commit of its own)."""
    append(Location.parse(str(lake)), spec, pa.Table.from_pylist(rows, spec.schema))


def clean_lake(lake: Path, skip: set[tuple[str, str, date]] = frozenset()) -> None:  # type: ignore[assignment]
    """Write four clean weeks, leaving out the (account, media offer, day) in ``skip``."""
    stats, log = [], []
    for account, ids in ACCOUNTS.items():
        for n in range(1, DAYS + 1):
            for media in ids:
                if (account, media, day(n)) in skip:
                    continue
                stats += [stat_row(account, media, day(n), k) for k in STAT_TYPES]
                log.append(log_row(account, media, day(n)))
    write(lake, MEDIA_STATS_TABLE, stats)
    write(lake, FETCH_LOG_TABLE, log)


def hourly_rows(
    account: str, media: str, d: date, factor: float = 1.0, hours: range = range(24)
) -> list[dict[str, Any]]:
    """The hourly rows of a day (all 24 by default), split as the emulator splits them: the
    24 hours' sums equal the daily rows' (times ``factor``)."""
    counts = ("views", "preview_views", "interaction_time_ms", "preview_interaction_time_ms",
              "unique_viewers", "preview_unique_viewers")  # fmt: skip
    rows = []
    for kind in STAT_TYPES:
        daily = stat_row(account, media, d, kind)
        for hour in hours:
            shares = {c: hour_share(int(daily[c] * factor), hour) for c in counts}
            rows.append({**daily, **shares, "bucket_start": _at(d, hour), "period_ms": HOUR_MS})
    return rows


def restatement_row(
    account: str, media: str, d: date, old: int, new: int, age: int
) -> dict[str, Any]:
    return {
        "account_id": account,
        "media_offer_id": media,
        "period_ms": DAY_MS,
        "dt": d,
        **{
            f"old_{c}": old
            for c in ("views", "preview_views", "interaction_time_ms", "unique_viewers")
        },
        **{
            f"new_{c}": new
            for c in ("views", "preview_views", "interaction_time_ms", "unique_viewers")
        },
        "fetched_at": _at(d + timedelta(days=age)),
        "run_id": "planted",
        "table_version": 1,
    }
