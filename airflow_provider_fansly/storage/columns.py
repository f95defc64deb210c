"""The one explicit Arrow schema of each Delta table, and fetched results flattened into rows.

Timestamps are Delta's: microseconds, UTC. A schema change is a migration written down in
CHANGELOG.md, never an accident of inference: every write casts to these schemas.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from itertools import chain
from operator import attrgetter
from typing import Any

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_fansly.client.datapoints import (
    API_COLUMNS,
    COUNT_COLUMNS,
    STAT_FIELDS,
    VIDEO_COLUMNS,
    VIDEO_COUNTS,
)
from airflow_provider_fansly.client.models import MediaOffer, MediaStats

__all__ = [
    "ACCOUNT_TRAFFIC_SCHEMA",
    "ADDED_FIELDS",
    "API_COLUMNS",
    "CREDIT_LEDGER_SCHEMA",
    "FETCH_LOG_SCHEMA",
    "MEDIA_OFFERS_SCHEMA",
    "MEDIA_STATS_SCHEMA",
    "PARTITION_COLUMNS",
    "QUALITY_RESULTS_SCHEMA",
    "RESTATED_COLUMNS",
    "RESTATEMENTS_SCHEMA",
    "ROWS_SCHEMA",
    "TIMESTAMP",
    "TOP_MEDIA_SCHEMA",
    "media_offers_table",
    "ms_to_timestamp",
    "stats_table",
    "with_added_fields",
    "with_partitions",
]

TIMESTAMP = pa.timestamp("us", tz="UTC")

#: The columns every row of 0.4 had, in order.
_BASE_FIELDS = [
    pa.field("account_id", pa.string(), nullable=False),
    pa.field("media_offer_id", pa.string(), nullable=False),
    pa.field("bucket_start", TIMESTAMP, nullable=False),
    pa.field("stat_type", pa.int32(), nullable=False),
    *(pa.field(name, pa.int64(), nullable=False) for name in COUNT_COLUMNS),
    pa.field("fetched_at", TIMESTAMP, nullable=False),
]
#: Added in 0.5, nullable (an old row, or an answer without them, reads null): the video
#: fields, after the partition columns, where adding them to a 0.4 table puts them.
ADDED_FIELDS = [
    *(
        pa.field(column, pa.int64() if field in VIDEO_COUNTS else pa.float64())
        for field, column in VIDEO_COLUMNS.items()
    ),
    # the numbers of stat fields a release does not know yet, as a JSON object (every digit)
    pa.field("extra_stats", pa.string()),
]

#: One fetched row, as the data path builds and validates it (no partition columns yet).
ROWS_SCHEMA = pa.schema([*_BASE_FIELDS, *ADDED_FIELDS])

#: The Hive partition columns of ``media_stats``, in directory order.
PARTITION_COLUMNS = ["period_ms", "dt"]

#: The ``media_stats`` Delta table: a row, its period and the UTC date of its bucket.
MEDIA_STATS_SCHEMA = pa.schema(
    [
        *_BASE_FIELDS,
        pa.field("period_ms", pa.int64(), nullable=False),
        pa.field("dt", pa.date32(), nullable=False),
        *ADDED_FIELDS,
    ]
)

#: The ``media_offers`` Delta table: one current row per (account, media offer).
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
        # added in 0.5 (nullable: rows of older releases read null)
        pa.field("media_type", pa.int64()),
        pa.field("duration_s", pa.float64()),
        # added in 0.6: when this lake first met the media offer, and how (``discovery``: the
        # account's statistics named it; ``fetched``: its own answer, as a listed one)
        pa.field("first_found_at", TIMESTAMP),
        pa.field("found_by", pa.string()),
    ]
)

#: The ``fetch_log`` Delta table: what each try of each task fetched, per media offer and day.
#: ``window_start``/``window_end`` are the part of the day the task asked for, so a quiet day
#: ("fetched, nothing happened") is told apart from a day never fetched.
FETCH_LOG_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("media_offer_id", pa.string(), nullable=False),
        pa.field("period_ms", pa.int64(), nullable=False),
        pa.field("dt", pa.date32(), nullable=False),
        pa.field("window_start", TIMESTAMP, nullable=False),
        pa.field("window_end", TIMESTAMP, nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("try_number", pa.int32(), nullable=False),
        pa.field("requests", pa.int64(), nullable=False),
        pa.field("rows", pa.int64(), nullable=False),
        pa.field("fetched_at", TIMESTAMP, nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("table_version", pa.int64()),
    ]
)


#: The ``credit_ledger`` Delta table: each try reserves its estimate before its first request
#: (``reserved``), then records what it really sent, failed sends included (``spent``).
CREDIT_LEDGER_SCHEMA = pa.schema(
    [
        pa.field("entry_id", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("month", pa.string(), nullable=False),
        pa.field("at", TIMESTAMP, nullable=False),
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("task", pa.string(), nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("try_number", pa.int32(), nullable=False),
        pa.field("requests", pa.int64(), nullable=False),
        pa.field("rate_limited", pa.int64(), nullable=False),
        pa.field("outcome", pa.string(), nullable=False),
        # added in 0.6 (older entries read null): the planner's tier that spent it
        pa.field("tier", pa.string()),
    ]
)


#: The counters whose day totals a re-fetch may move (restatements keep old and new).
RESTATED_COLUMNS = ("views", "preview_views", "interaction_time_ms", "unique_viewers")

#: The ``restatements`` Delta table: per media offer and day, the totals a commit replaced
#: (``old_*``) and the ones it wrote (``new_*``), recorded when it commits.
RESTATEMENTS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("media_offer_id", pa.string(), nullable=False),
        pa.field("period_ms", pa.int64(), nullable=False),
        pa.field("dt", pa.date32(), nullable=False),
        *(pa.field(f"old_{c}", pa.int64(), nullable=False) for c in RESTATED_COLUMNS),
        *(pa.field(f"new_{c}", pa.int64(), nullable=False) for c in RESTATED_COLUMNS),
        pa.field("fetched_at", TIMESTAMP, nullable=False),
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("table_version", pa.int64(), nullable=False),
    ]
)

#: The ``quality_results`` Delta table: one row per check and run when it passed, one per
#: finding (its scope: account, media offer, day) when it did not.
QUALITY_RESULTS_SCHEMA = pa.schema(
    [
        pa.field("run_id", pa.string(), nullable=False),
        pa.field("checked_at", TIMESTAMP, nullable=False),
        pa.field("as_of", pa.date32(), nullable=False),
        pa.field("period_ms", pa.int64(), nullable=False),
        pa.field("check_id", pa.string(), nullable=False),
        pa.field("severity", pa.string(), nullable=False),
        pa.field("status", pa.string(), nullable=False),
        pa.field("account_id", pa.string()),
        pa.field("media_offer_id", pa.string()),
        pa.field("dt", pa.date32()),
        pa.field("observed", pa.float64()),
        pa.field("threshold", pa.float64()),
        pa.field("message", pa.string(), nullable=False),
        pa.field("sample", pa.string(), nullable=False),
        # since 0.5: the media_stats version judged, and how ("incremental" or "full")
        pa.field("table_version", pa.int64()),
        pa.field("scope", pa.string()),
    ]
)


def _per_result(values: list[str], counts: list[int]) -> pa.Array:
    """A string column that repeats ``values[i]`` ``counts[i]`` times, built in C."""
    indices = pa.array(np.repeat(np.arange(len(values), dtype=np.int32), counts))
    return pa.DictionaryArray.from_arrays(indices, pa.array(values, pa.string())).cast(pa.string())


def _int64s(stats: list[Any], name: str) -> np.ndarray:
    """One counter of every stat, read straight into an int64 array (no list in between)."""
    return np.fromiter(map(attrgetter(name), stats), dtype=np.int64, count=len(stats))


def _optional(results: Sequence[MediaStats], field: str, column: str, has: str) -> pa.Array:
    """An optional column, read only from the answers that may carry ``field`` (the result's
    ``has`` is true), null for the others: most answers carry no optional field."""
    kind = ROWS_SCHEMA.field(column).type
    getter = attrgetter(field)
    parts = [_read(r.stats, getter, kind) if getattr(r, has) else None for r in results]
    if not any(p is not None for p in parts):
        return pa.nulls(sum(len(r.stats) for r in results), kind)
    return pa.concat_arrays(
        [
            p if p is not None else pa.nulls(len(r.stats), kind)
            for p, r in zip(parts, results, strict=True)
        ]
    )


def _read(stats: list[Any], getter: attrgetter[Any], kind: pa.DataType) -> pa.Array:
    """One optional field of every stat: straight into numpy (a missing float is masked
    null), else through a list (inferred, then cast: pyarrow converts a list holding None to
    a given type far slower)."""
    if pa.types.is_integer(kind):
        try:
            return pa.array(np.fromiter(map(getter, stats), dtype=np.int64, count=len(stats)))
        except TypeError:  # a None among them
            pass
    if pa.types.is_floating(kind):
        # numpy reads None as NaN here (no error); JSON has no NaN, so a NaN is a None
        values = np.fromiter(map(getter, stats), dtype=np.float64, count=len(stats))
        return pa.array(values, mask=np.isnan(values))
    return pa.array(list(map(getter, stats))).cast(kind)


def _added_arrays(results: Sequence[MediaStats]) -> list[pa.Array]:
    """The columns added in 0.5: the video fields, and the numbers of unknown fields."""
    return [
        *(_optional(results, f, column, "video") for f, column in VIDEO_COLUMNS.items()),
        _optional(results, "extra", "extra_stats", "unknown_fields"),
    ]


def ms_to_timestamp(values: pa.Array) -> pa.Array:
    return pc.multiply(values, 1000).cast(TIMESTAMP)


def stats_table(results: Sequence[MediaStats], fetched_at_ms: int) -> pa.Table:
    """Build one table of :data:`ROWS_SCHEMA` from fetched media statistics.

    The values were type- and range-checked when parsed, so the columns convert without
    inference, once per chunk rather than once per answer.
    """
    times = list(chain.from_iterable(r.times for r in results))
    stats = list(chain.from_iterable(r.stats for r in results))
    counts = [len(r.times) for r in results]
    arrays = [
        _per_result([r.account_id for r in results], counts),
        _per_result([r.media_offer_id for r in results], counts),
        ms_to_timestamp(pa.array(times, pa.int64())),
        pa.array(list(map(attrgetter("type"), stats)), pa.int32()),
        *(pa.array(_int64s(stats, name)) for name in STAT_FIELDS),
        pa.repeat(pa.scalar(fetched_at_ms * 1000, TIMESTAMP), len(stats)),
        *_added_arrays(results),
    ]
    return pa.Table.from_arrays(arrays, schema=ROWS_SCHEMA)


def with_added_fields(rows: pa.Table) -> pa.Table:
    """Rows an older release made (without :data:`ADDED_FIELDS`) in :data:`ROWS_SCHEMA`, the
    added columns null."""
    missing = {
        f.name: pa.nulls(rows.num_rows, f.type)
        for f in ADDED_FIELDS
        if f.name not in rows.column_names
    }
    for name, values in missing.items():
        rows = rows.append_column(name, values)
    return rows.select(ROWS_SCHEMA.names).cast(ROWS_SCHEMA)


def with_partitions(rows: pa.Table, period: int) -> pa.Table:
    """Add ``period_ms`` and ``dt`` (the UTC date of each bucket) to validated rows."""
    rows = rows.cast(ROWS_SCHEMA)
    return pa.Table.from_arrays(
        [
            *(rows[f.name] for f in _BASE_FIELDS),
            pa.repeat(pa.scalar(period, pa.int64()), rows.num_rows),
            rows["bucket_start"].cast(pa.date32()),
            *(rows[f.name] for f in ADDED_FIELDS),
        ],
        schema=MEDIA_STATS_SCHEMA,
    )


def media_offers_table(
    account_id: str, offers: Iterable[MediaOffer], fetched_at_ms: int, found_by: str = "fetched"
) -> pa.Table:
    """One row per media offer, from the ``aggregationData`` of its answers; ``found_by``
    says which answers (a merge keeps the first finding)."""
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
            "created_at": o.created_at_s * 1_000_000 if o.created_at_s is not None else None,
            "deleted": o.deleted,
            "fetched_at": fetched_at_ms * 1000,
            "media_type": o.media_type,
            "duration_s": o.duration_s,
            "first_found_at": fetched_at_ms * 1000,
            "found_by": found_by,
        }
        for o in offers
    ]
    return pa.Table.from_pylist(rows, schema=MEDIA_OFFERS_SCHEMA)


#: The ``asset_links`` Delta table: which task makes a new lake's first Airflow asset event
#: (``claim``), and that Airflow recorded it (``linked``), so no two tasks make it at once.
ASSET_LINKS_SCHEMA = pa.schema(
    [
        pa.field("asset_uri", pa.string(), nullable=False),
        pa.field("kind", pa.string(), nullable=False),
        pa.field("claimant", pa.string(), nullable=False),
        pa.field("at", TIMESTAMP, nullable=False),
    ]
)


#: The ``account_traffic`` Delta table: an account's own traffic per bucket and type, from
#: ``profilestats`` (the account totals; the video fields live here, not in media answers).
ACCOUNT_TRAFFIC_SCHEMA = pa.schema(
    [
        *(f for f in _BASE_FIELDS if f.name != "media_offer_id"),
        pa.field("period_ms", pa.int64(), nullable=False),
        pa.field("dt", pa.date32(), nullable=False),
        *ADDED_FIELDS,
    ]
)

#: The ``top_media_offers`` Delta table: each discovery window's top lists (``list`` is
#: ``views`` or ``fyp``), a row per rank. The window is the identity of a ranking.
TOP_MEDIA_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("period_ms", pa.int64(), nullable=False),
        pa.field("dt", pa.date32(), nullable=False),
        pa.field("window_start", TIMESTAMP, nullable=False),
        pa.field("window_end", TIMESTAMP, nullable=False),
        pa.field("list", pa.string(), nullable=False),
        pa.field("rank", pa.int32(), nullable=False),
        pa.field("media_offer_id", pa.string(), nullable=False),
        *(pa.field(name, pa.int64(), nullable=False) for name in COUNT_COLUMNS[:4]),
        pa.field("unique_viewers", pa.int64()),
        pa.field("fetched_at", TIMESTAMP, nullable=False),
    ]
)
