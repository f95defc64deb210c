"""The lake as Airflow assets: the aliases DAGs declare and schedule on (see :mod:`.aliases`)."""

from __future__ import annotations

from airflow_provider_fansly.assets.aliases import (
    MEDIA_STATS,
    MEDIA_STATS_UPDATED,
    QUALITY_RESULTS,
    announce_batch,
    batch_extra,
    run_extra,
    table_asset,
)

__all__ = [
    "MEDIA_STATS",
    "MEDIA_STATS_UPDATED",
    "QUALITY_RESULTS",
    "announce_batch",
    "batch_extra",
    "run_extra",
    "table_asset",
]
