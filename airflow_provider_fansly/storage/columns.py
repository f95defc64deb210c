"""The one explicit Arrow schema of each table, and fetched results flattened into it.

Files hold every column but the partition keys (``period_ms`` and ``dt`` live in the
directory names); readers that use Hive partitioning get them back as columns.
"""

from __future__ import annotations

from collections.abc import Iterable

import pyarrow as pa

from airflow_provider_fansly.models import MediaOffer, MediaStats

__all__ = [
    "COUNT_COLUMNS",
    "MEDIA_OFFERS_SCHEMA",
    "MEDIA_STATS_SCHEMA",
    "PARTITION_SCHEMA",
    "media_offers_table",
    "stats_table",
]

TIMESTAMP = pa.timestamp("ms", tz="UTC")
COUNT_COLUMNS = (
    "views",
    "preview_views",
    "interaction_time_ms",
    "preview_interaction_time_ms",
    "unique_viewers",
    "preview_unique_viewers",
)

#: The schema of every file under ``media_stats/`` (partition keys excluded).
MEDIA_STATS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("media_offer_id", pa.string(), nullable=False),
        pa.field("bucket_start", TIMESTAMP, nullable=False),
        pa.field("stat_type", pa.int32(), nullable=False),
        *(pa.field(name, pa.int64(), nullable=False) for name in COUNT_COLUMNS),
        pa.field("fetched_at", TIMESTAMP, nullable=False),
    ]
)

#: The Hive partition keys of ``media_stats/``, in directory order.
PARTITION_SCHEMA = pa.schema([pa.field("period_ms", pa.int64()), pa.field("dt", pa.date32())])

#: One current row per media offer under ``media_offers/``.
MEDIA_OFFERS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("media_offer_id", pa.string(), nullable=False),
        pa.field("media_id", pa.string()),
        pa.field("mimetype", pa.string()),
        pa.field("width", pa.int64()),
        pa.field("height", pa.int64()),
        pa.field("price", pa.int64()),
        pa.field("like_count", pa.int64()),
        pa.field("created_at", TIMESTAMP),
        pa.field("deleted", pa.bool_()),
        pa.field("fetched_at", TIMESTAMP, nullable=False),
    ]
)


def stats_table(results: Iterable[MediaStats], fetched_at_ms: int) -> pa.Table:
    """Flatten media statistics into a table of :data:`MEDIA_STATS_SCHEMA`."""
    accounts: list[str] = []
    media: list[str] = []
    times: list[int] = []
    values: list[tuple[int, ...]] = []
    for result in results:
        before = len(values)
        for ts, stats in result.buckets:
            times.extend([ts] * len(stats))
            values.extend(stats)
        added = len(values) - before
        accounts.extend([result.account_id] * added)
        media.extend([result.media_offer_id] * added)
    columns = list(zip(*values, strict=True)) if values else [()] * 7
    arrays = [
        pa.array(accounts, pa.string()),
        pa.array(media, pa.string()),
        pa.array(times, TIMESTAMP),
        pa.array(columns[0], pa.int32()),
        *(pa.array(col, pa.int64()) for col in columns[1:]),
        pa.array([fetched_at_ms] * len(values), TIMESTAMP),
    ]
    return pa.Table.from_arrays(arrays, schema=MEDIA_STATS_SCHEMA)


def media_offers_table(
    account_id: str, offers: Iterable[MediaOffer], fetched_at_ms: int
) -> pa.Table:
    """One row per media offer, from the ``aggregationData`` of its answers."""
    rows = [
        {
            "account_id": account_id,
            "media_offer_id": o.id,
            "media_id": o.media_id,
            "mimetype": o.mimetype,
            "width": o.width,
            "height": o.height,
            "price": o.price,
            "like_count": o.like_count,
            "created_at": o.created_at_s * 1000 if o.created_at_s is not None else None,
            "deleted": o.deleted,
            "fetched_at": fetched_at_ms,
        }
        for o in offers
    ]
    return pa.Table.from_pylist(rows, schema=MEDIA_OFFERS_SCHEMA)
