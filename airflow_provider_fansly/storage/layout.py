"""Where things live in the lake and which rows a task owns: pure functions, no I/O.

::

    {output_path}/
      media_stats/     Delta table, partitioned period_ms=/dt=     the datapoints
      media_offers/    Delta table                                  one row per media offer
      fetch_log/       Delta table, partitioned period_ms=         what each task fetched
      credit_ledger/   Delta table                                  what each try reserved and spent
      _staging/{key}/{try}/batch-NNNNN.parquet    one try's validated rows, before its commit

A task owns the rows of its account, its media offers, its period and its window: its commit
replaces exactly those (:func:`replace_predicate`), whatever files they sit in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import date, datetime, timezone

from airflow_provider_fansly.windows import DAY_MS

__all__ = [
    "CREDIT_LEDGER",
    "FETCHED",
    "FETCH_LOG",
    "GONE",
    "INVALID",
    "MEDIA_OFFERS",
    "MEDIA_STATS",
    "QUALITY_RESULTS",
    "RESTATEMENTS",
    "STAGING",
    "day_bounds",
    "day_of",
    "days_of",
    "replace_predicate",
    "staging_dir",
    "task_key",
]

MEDIA_STATS = "media_stats"
MEDIA_OFFERS = "media_offers"
FETCH_LOG = "fetch_log"
CREDIT_LEDGER = "credit_ledger"
RESTATEMENTS = "restatements"
QUALITY_RESULTS = "quality_results"
STAGING = "_staging"

#: The fetch log's statuses: fetched whole; answered gone (deleted or not found, nothing
#: committed); set apart for breaking a data-quality rule (``on_invalid="quarantine"``).
FETCHED = "fetched"
GONE = "gone"
INVALID = "invalid"


def task_key(account_id: str, media_offer_ids: Sequence[str], period: int, window: str) -> str:
    """Return a stable 16-hex-digit key for one task's account, media offers, period, window."""
    text = "\n".join([account_id, str(period), window, *sorted(set(media_offer_ids))])
    return hashlib.sha256(text.encode()).hexdigest()[:16]


def staging_dir(key: str, attempt: str) -> str:
    """Return the staging folder of one try of one task (no two tries share one)."""
    return f"{STAGING}/{key}/{attempt}"


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


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def replace_predicate(
    account_id: str, media_offer_ids: Sequence[str], period: int, after: int, before: int
) -> str:
    """Return the SQL predicate of the rows one task owns in ``media_stats``.

    Two clauses repeat what others imply, for Delta's pruning by partition values and file
    statistics. The ``dt`` bounds restate the ``bucket_start`` bounds, so a commit touches
    only the window's partitions. The id range restates the ``IN`` list, which the pruning
    cannot use past a few dozen values: with it, a commit conflicts with a concurrent one
    only when their batches' id ranges overlap (``batches()`` cuts disjoint ranges).
    """
    days = days_of(after, before)
    ordered = sorted(set(media_offer_ids))
    ids = ", ".join(_quoted(i) for i in ordered)
    return (
        f"account_id = {_quoted(account_id)} AND media_offer_id IN ({ids}) "
        f"AND media_offer_id >= {_quoted(ordered[0])} AND media_offer_id <= {_quoted(ordered[-1])} "
        f"AND period_ms = {int(period)} "
        f"AND dt >= '{days[0].isoformat()}' AND dt <= '{days[-1].isoformat()}' "
        f"AND bucket_start >= '{_iso(after)}' AND bucket_start < '{_iso(before)}'"
    )
