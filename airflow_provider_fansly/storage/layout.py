"""Where things live in the lake and which rows a task owns: pure functions, no I/O.

::

    {output_path}/
      media_stats/      Delta, partitioned period_ms=/dt=  the datapoints, a row per bucket and type
      media_offers/     Delta                              a row per media offer: its metadata
      fyp_tags/         Delta, partitioned period_ms=/dt=  the For-You-page tags of each answer
      fetch_log/        Delta, partitioned period_ms=      what each task fetched, per media offer
                                                           and day: the lake's coverage
      credit_ledger/    Delta                              what each try reserved and spent
      restatements/     Delta, partitioned period_ms=      rows a later fetch changed
      quality_results/  Delta                              each quality run's findings
      asset_links/      Delta                              who makes the lake's first Airflow
                                                           asset event, and that it is made
      _staging/{key}/{try}/batch-NNNNN.parquet|json        one try's validated rows and their
                                                           manifest, before its commit

A task owns the rows of its account, its media offers, its period and its window: its commit
replaces exactly those (:func:`replace_predicate`), whatever files they sit in.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from datetime import datetime, timezone

from airflow_provider_fansly.client.windows import days_of

__all__ = [
    "ASSET_LINKS_DIR",
    "CREDIT_LEDGER_DIR",
    "FETCHED",
    "FETCH_LOG_DIR",
    "GONE",
    "INVALID",
    "MEDIA_OFFERS_DIR",
    "MEDIA_STATS_DIR",
    "QUALITY_RESULTS_DIR",
    "RESTATEMENTS_DIR",
    "STAGING_DIR",
    "replace_predicate",
    "staging_dir",
    "task_key",
]

MEDIA_STATS_DIR = "media_stats"
MEDIA_OFFERS_DIR = "media_offers"
FETCH_LOG_DIR = "fetch_log"
CREDIT_LEDGER_DIR = "credit_ledger"
RESTATEMENTS_DIR = "restatements"
QUALITY_RESULTS_DIR = "quality_results"
ASSET_LINKS_DIR = "asset_links"
FYP_TAGS_DIR = "fyp_tags"
STAGING_DIR = "_staging"

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
    return f"{STAGING_DIR}/{key}/{attempt}"


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _iso(ms: int) -> str:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%fZ")


def _owned(
    account_id: str, media_offer_ids: Sequence[str], period: int, after: int, before: int
) -> str:
    """The clauses of what one task owns in a table partitioned by period and day."""
    days = days_of(after, before)
    ordered = sorted(set(media_offer_ids))
    ids = ", ".join(_quoted(i) for i in ordered)
    return (
        f"account_id = {_quoted(account_id)} AND media_offer_id IN ({ids}) "
        f"AND media_offer_id >= {_quoted(ordered[0])} AND media_offer_id <= {_quoted(ordered[-1])} "
        f"AND period_ms = {int(period)} "
        f"AND dt >= '{days[0].isoformat()}' AND dt <= '{days[-1].isoformat()}'"
    )


def tags_predicate(
    account_id: str, media_offer_ids: Sequence[str], period: int, after: int, before: int
) -> str:
    """Return the SQL predicate of the ``fyp_tags`` rows one task owns: the answers of a task
    of the same window (a rerun or retry of it). Another run's answers stay, even inside this
    window: they are other aggregations, paid for (``dt`` is the day a window starts)."""
    return (
        f"{_owned(account_id, media_offer_ids, period, after, before)} "
        f"AND task_window_start = '{_iso(after)}' AND task_window_end = '{_iso(before)}'"
    )


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
    return (
        f"{_owned(account_id, media_offer_ids, period, after, before)} "
        f"AND bucket_start >= '{_iso(after)}' AND bucket_start < '{_iso(before)}'"
    )
