"""Where things live in the lake: pure functions from values to relative paths (no I/O).

::

    {output_path}/
      media_stats/period_ms={period}/dt={YYYY-MM-DD}/part-{key}.parquet   published rows
      media_offers/part-{key}.parquet                                    current metadata
      _keys/{key}.json                       which media offers each file key holds
      _staging/{key}/{period}-{after}-{before}/...   a run's files before they publish

``key`` names one set of media offers of one account (a task's batch); every file a task
writes carries it, so a rerun replaces exactly its own files.
"""

from __future__ import annotations

import hashlib
from datetime import date, datetime, timezone

from airflow_provider_fansly.windows import DAY_MS

__all__ = [
    "KEYS",
    "MEDIA_OFFERS",
    "MEDIA_STATS",
    "day_bounds",
    "day_of",
    "day_of_partition",
    "days_of",
    "file_key",
    "key_manifest",
    "key_of_file",
    "media_offers_file",
    "partition_file",
    "period_dir",
    "staging_dir",
]

MEDIA_STATS = "media_stats"
MEDIA_OFFERS = "media_offers"
KEYS = "_keys"
STAGING = "_staging"


def file_key(account_id: str, media_offer_ids: list[str]) -> str:
    """Return a stable 16-hex-digit key for one account's set of media offers."""
    text = "\n".join([account_id, *sorted(set(media_offer_ids))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def day_of(ms: int) -> date:
    """Return the UTC date of an epoch-ms instant."""
    return datetime.fromtimestamp(ms // 1000, tz=timezone.utc).date()


def day_bounds(day: date) -> tuple[int, int]:
    """Return ``[start, end)`` of a UTC day in epoch ms."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)
    return start, start + DAY_MS


def days_of(after: int, before: int) -> list[date]:
    """Return every UTC day that ``[after, before)`` touches, oldest first."""
    first = after - after % DAY_MS
    return [day_of(ms) for ms in range(first, before, DAY_MS)]


def period_dir(period: int) -> str:
    """Return the directory that holds one period's day partitions."""
    return f"{MEDIA_STATS}/period_ms={period}"


def partition_dir(period: int, day: date) -> str:
    """Return the Hive partition directory of one period and day."""
    return f"{period_dir(period)}/dt={day.isoformat()}"


def day_of_partition(name: str) -> date:
    """Return the day of a partition directory's name (``dt=YYYY-MM-DD``)."""
    return date.fromisoformat(name.removeprefix("dt="))


def partition_file(period: int, day: date, key: str) -> str:
    """Return the published file of one key in one partition."""
    return f"{partition_dir(period, day)}/part-{key}.parquet"


def key_of_file(name: str) -> str:
    """Return the key of a published file's name (``part-{key}.parquet``)."""
    return name.removeprefix("part-").removesuffix(".parquet")


def media_offers_file(key: str) -> str:
    """Return the published media metadata file of one key."""
    return f"{MEDIA_OFFERS}/part-{key}.parquet"


def key_manifest(key: str) -> str:
    """Return the manifest that lists the media offers of one key."""
    return f"{KEYS}/{key}.json"


def staging_dir(key: str, period: int, after: int, before: int) -> str:
    """Return the staging directory of one run (outside the published trees)."""
    return f"{STAGING}/{key}/{period}-{after}-{before}"
