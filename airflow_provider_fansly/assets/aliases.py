"""The lake as Airflow assets: the aliases DAGs declare, the Asset a run attaches, its extra.

``output_path`` is templated, so the lake's URI is known only when a task runs: DAGs declare
an :class:`~airflow.sdk.AssetAlias` (what the scheduler and the UI see when the DAG is parsed)
and each run attaches the lake's own :class:`~airflow.sdk.Asset` to it, with what it wrote.

Two aliases, because a DAG fetches in mapped batches: each batch's commit is an event through
:data:`MEDIA_STATS`, and one event per DAG run, once every batch is in, goes through
:data:`MEDIA_STATS_UPDATED`. Airflow queues a DAG scheduled on an alias only for events
emitted through that alias, so a quality DAG scheduled on ``MEDIA_STATS_UPDATED`` runs once
per producing run, not once per batch.

Airflow 3.3.2 records an alias's first event for an asset (creating the asset and linking it
to the alias) without guarding against a second task doing the same at the same moment: one
of them is then marked failed after it succeeded. So a batch attaches its event only once
the lake records that the first event is made (:mod:`..storage.asset_links`); until then
the run-level task that wins the lake's claim makes it, through both aliases.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from pathlib import PurePosixPath
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, AssetAlias

from airflow_provider_fansly.client.windows import days_of

if TYPE_CHECKING:
    from airflow_provider_fansly.client.engine import Log
    from airflow_provider_fansly.storage.location import Location

__all__ = [
    "MEDIA_STATS",
    "MEDIA_STATS_UPDATED",
    "QUALITY_RESULTS",
    "announce_batch",
    "batch_extra",
    "run_extra",
    "table_asset",
]

#: Each MediaStatsOperator commit: the lake's ``media_stats`` table, one event per task.
MEDIA_STATS = AssetAlias(name="fansly_media_stats", group="fansly")
#: One event per DAG run once all its batches committed; schedule downstream DAGs on this.
MEDIA_STATS_UPDATED = AssetAlias(name="fansly_media_stats_updated", group="fansly")
#: Each quality run: the lake's ``quality_results`` table (never media_stats: a quality DAG
#: scheduled on the lake would trigger itself).
QUALITY_RESULTS = AssetAlias(name="fansly_quality_results", group="fansly")

#: The counters of a task summary that add up over a DAG run.
_SUMMED = ("rows", "requests", "reused_requests", "media_offers")


def table_asset(table_uri: str) -> Asset:
    """One of the lake's tables as an Asset: ``file:///.../media_stats`` for a local lake,
    ``s3://bucket/path/media_stats`` (no connection id, no credentials) for object storage."""
    uri = table_uri if "://" in table_uri else PurePosixPath(table_uri).as_uri()
    return Asset(uri=uri, name=uri, group="fansly")


def batch_extra(summary: Mapping[str, Any]) -> dict[str, Any]:
    """What one task's event carries: its window, the days it wrote, rows, requests, version."""
    after, before = summary["window"]
    return {
        "account_id": summary["account_id"],
        "period_ms": summary["period_ms"],
        "window": {"after": after, "before": before},
        "days": [str(d) for d in days_of(after, before)],
        "media_offers": summary["media_offers"],
        "rows": summary["rows"],
        "requests": summary["requests"],
        "reused_requests": summary["reused_requests"],
        "table_version": summary["table_version"],
        "gone": list(summary["gone"]),
        "invalid": sorted(summary["invalid"]),
    }


def run_extra(summaries: Iterable[Mapping[str, Any]]) -> dict[str, Any]:
    """What a DAG run's event carries: its batches' extras folded into one."""
    extras = [batch_extra(s) for s in summaries]
    if not extras:
        raise ValueError("a DAG run's update needs at least one task summary")
    return {
        "batches": len(extras),
        "accounts": sorted({e["account_id"] for e in extras}),
        "periods_ms": sorted({e["period_ms"] for e in extras}),
        "window": {
            "after": min(e["window"]["after"] for e in extras),
            "before": max(e["window"]["before"] for e in extras),
        },
        "days": sorted({d for e in extras for d in e["days"]}),
        **{name: sum(e[name] for e in extras) for name in _SUMMED},
        "table_version": max(
            (e["table_version"] for e in extras if e["table_version"] is not None), default=None
        ),
        "gone": sorted({m for e in extras for m in e["gone"]}),
        "invalid": sorted({m for e in extras for m in e["invalid"]}),
    }


def announce_batch(
    outlets: Iterable[object],
    outlet_events: Any,
    location: Location,
    summary: Mapping[str, Any],
    log: Log,
) -> None:
    """Attach the lake's Asset to the MEDIA_STATS alias for one batch's commit, when the
    alias is an outlet of the task and the lake records that Airflow links the two (the
    first link is the run-level task's to make: Airflow cannot make it from parallel tasks)."""
    from airflow_provider_fansly.storage.asset_links import is_linked

    if not any(isinstance(o, AssetAlias) and o.name == MEDIA_STATS.name for o in outlets):
        return
    if summary["table_version"] is None:
        log.info("No asset event for this batch: it committed nothing to media_stats")
        return
    asset = table_asset(summary["table"])
    if not is_linked(location, asset.uri):
        log.info(
            "No asset event for this batch: %s is not yet linked to alias %s; the run's "
            "update links it (Airflow cannot make that first link from tasks in parallel)",
            asset.uri,
            MEDIA_STATS.name,
        )
        return
    outlet_events[MEDIA_STATS].add(asset, extra=batch_extra(summary))
    log.info("Asset event: %s through alias %s", asset.uri, MEDIA_STATS.name)
