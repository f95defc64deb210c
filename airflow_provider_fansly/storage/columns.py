"""The one explicit Arrow schema of each table, and fetched results flattened into it.

Files hold every column but the partition keys (``period_ms`` and ``dt`` live in the
directory names); readers that use Hive partitioning get them back as columns.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from operator import attrgetter

import numpy as np
import pyarrow as pa

from airflow_provider_fansly.datapoints import STAT_FIELDS
from airflow_provider_fansly.models import MediaOffer, MediaStats

__all__ = [
    "API_COLUMNS",
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

#: The API's name of each stat field -> its column in the lake.
API_COLUMNS = dict(zip(("type", *STAT_FIELDS), ("stat_type", *COUNT_COLUMNS), strict=True))

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


def _per_result(values: list[str], counts: list[int]) -> pa.Array:
    """A string column that repeats ``values[i]`` ``counts[i]`` times, built in C."""
    indices = pa.array(np.repeat(np.arange(len(values), dtype=np.int32), counts))
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string())).cast(pa.string())


def stats_table(results: Sequence[MediaStats], fetched_at_ms: int) -> pa.Table:
    """Build one table of :data:`MEDIA_STATS_SCHEMA` from fetched media statistics.

    The values were type- and range-checked when parsed, so the columns convert without
    inference, once per chunk rather than once per answer.
    """
    times = list(chain.from_iterable(r.times for r in results))
    stats = list(chain.from_iterable(r.stats for r in results))
    counts = [len(r.times) for r in results]
    arrays = [
        _per_result([r.account_id for r in results], counts),
        _per_result([r.media_offer_id for r in results], counts),
        pa.array(times, pa.int64()).cast(TIMESTAMP),
        pa.array(list(map(attrgetter("type"), stats)), pa.int32()),
        *(pa.array(list(map(attrgetter(name), stats)), pa.int64()) for name in STAT_FIELDS),
        pa.repeat(pa.scalar(fetched_at_ms, TIMESTAMP), len(stats)),
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
