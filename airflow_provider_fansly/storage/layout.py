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
from datetime import date, datetime, timezone

from airflow_provider_fansly.client.windows import days_of

__all__ = [
    "ACCOUNT_TRAFFIC_DIR",
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
    "TOP_MEDIA_DIR",
    "replace_clauses",
    "replace_predicate",
    "sql",
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
ACCOUNT_TRAFFIC_DIR = "account_traffic"
TOP_MEDIA_DIR = "top_media_offers"
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


#: One condition on a column: (column, operator, value); operators ``=``, ``>=``, ``<=``,
#: ``<`` and ``in``; values are text, integers, days and aware datetimes.
Clause = tuple[str, str, object]


def _quoted(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _sql_value(value: object) -> str:
    if isinstance(value, str):
        return _quoted(value)
    if isinstance(value, datetime):
        return "'" + value.strftime("%Y-%m-%dT%H:%M:%S.%fZ") + "'"
    if isinstance(value, date):
        return f"'{value.isoformat()}'"
    if isinstance(value, list):
        return "(" + ", ".join(_sql_value(v) for v in value) + ")"
    return str(int(value))  # type: ignore[call-overload]


def sql(clauses: Sequence[Clause]) -> str:
    """The clauses as the SQL predicate delta-rs takes and commits record."""
    return " AND ".join(f"{column} {op.upper()} {_sql_value(v)}" for column, op, v in clauses)


def _utc(ms: int) -> datetime:
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc)


def _owned(
    account_id: str, media_offer_ids: Sequence[str], period: int, after: int, before: int
) -> list[Clause]:
    """What one task owns in a table partitioned by period and day."""
    days = days_of(after, before)
    ordered = sorted(set(media_offer_ids))
    return [
        ("account_id", "=", account_id),
        ("media_offer_id", "in", ordered),
        ("media_offer_id", ">=", ordered[0]),
        ("media_offer_id", "<=", ordered[-1]),
        ("period_ms", "=", int(period)),
        ("dt", ">=", days[0]),
        ("dt", "<=", days[-1]),
    ]


def tags_predicate(
    account_id: str, media_offer_ids: Sequence[str], period: int, after: int, before: int
) -> str:
    """Return the SQL predicate of the ``fyp_tags`` rows one task owns: the answers of a task
    of the same window (a rerun or retry of it). Another run's answers stay, even inside this
    window: they are other aggregations, paid for (``dt`` is the day a window starts)."""
    window: list[Clause] = [
        ("task_window_start", "=", _utc(after)),
        ("task_window_end", "=", _utc(before)),
    ]
    return sql(_owned(account_id, media_offer_ids, period, after, before) + window)


def replace_predicate(
    account_id: str, media_offer_ids: Sequence[str], period: int, after: int, before: int
) -> str:
    """Return the SQL predicate of the rows one task owns in ``media_stats`` (its
    :func:`replace_clauses`)."""
    return sql(replace_clauses(account_id, media_offer_ids, period, after, before))


def replace_clauses(
    account_id: str, media_offer_ids: Sequence[str], period: int, after: int, before: int
) -> list[Clause]:
    """The rows one task owns in ``media_stats``, stated once for SQL and Arrow.

    Two clauses repeat what others imply, for Delta's pruning by partition values and file
    statistics. The ``dt`` bounds restate the ``bucket_start`` bounds, so a commit touches
    only the window's partitions. The id range restates the ``IN`` list, which the pruning
    cannot use past a few dozen values: with it, a commit conflicts with a concurrent one
    only when their batches' id ranges overlap (``batches()`` cuts disjoint ranges).
    """
    window: list[Clause] = [
        ("bucket_start", ">=", _utc(after)),
        ("bucket_start", "<", _utc(before)),
    ]
    return _owned(account_id, media_offer_ids, period, after, before) + window
