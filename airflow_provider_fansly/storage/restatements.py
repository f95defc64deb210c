"""What a commit restated: per media offer and day, the totals it replaced against the new ones.

A re-fetch (a lookback, a rerun) replaces published rows. Delta keeps the replaced ones only
until vacuum, so each commit records the day totals of both sides in the ``restatements``
table right after it commits: the quality checks read how far late stats move numbers, per
day of age, long after the old files are gone.
"""

from __future__ import annotations

from datetime import datetime, timezone

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import QueryBuilder

from airflow_provider_fansly.storage.columns import RESTATED_COLUMNS, RESTATEMENTS_SCHEMA
from airflow_provider_fansly.storage.delta import (
    MEDIA_STATS_TABLE,
    RESTATEMENTS_TABLE,
    Commit,
    append,
    table_at,
)
from airflow_provider_fansly.storage.location import Location

__all__ = ["day_totals", "record_restatements"]

_KEYS = ("account_id", "media_offer_id", "dt")


def day_totals(location: Location, predicate: str, version: int) -> pa.Table:
    """Totals per media offer and day of the ``media_stats`` rows ``predicate`` selects at
    ``version``."""
    table = table_at(location, MEDIA_STATS_TABLE, version)
    sums = ", ".join(f"CAST(SUM({c}) AS BIGINT) AS {c}" for c in RESTATED_COLUMNS)
    query = (
        f"SELECT account_id, media_offer_id, dt, {sums} "
        f"FROM stats WHERE {predicate} GROUP BY account_id, media_offer_id, dt"
    )
    answer = QueryBuilder().register("stats", table).execute(query)
    totals = pa.RecordBatchReader.from_stream(answer).read_all()
    # DataFusion answers strings as string_view, which pyarrow cannot join on
    plain = [
        pa.field(f.name, pa.string()) if pa.types.is_string_view(f.type) else f
        for f in totals.schema
    ]
    return totals.cast(pa.schema(plain))


def record_restatements(
    location: Location,
    predicate: str,
    version: int,
    period: int,
    run_id: str,
    fetched_at_ms: int,
) -> Commit | None:
    """Append the days the commit at ``version`` replaced (old and new totals); ``None`` when
    it replaced nothing (a first fetch)."""
    if version < 1:
        return None
    old = day_totals(location, predicate, version - 1)
    if not old.num_rows:
        return None
    new = day_totals(location, predicate, version)
    rows = _pair(old, new)
    if not rows.num_rows:
        return None
    n = rows.num_rows
    at = datetime.fromtimestamp(fetched_at_ms / 1000, timezone.utc)
    columns = {
        "account_id": rows["account_id"],
        "media_offer_id": rows["media_offer_id"],
        "period_ms": pa.array([period] * n, pa.int64()),
        "dt": rows["dt"],
        **{f"old_{c}": rows[f"old_{c}"] for c in RESTATED_COLUMNS},
        **{f"new_{c}": rows[f"new_{c}"] for c in RESTATED_COLUMNS},
        "fetched_at": pa.array([at] * n, RESTATEMENTS_SCHEMA.field("fetched_at").type),
        "run_id": pa.array([run_id] * n, pa.string()),
        "table_version": pa.array([version] * n, pa.int64()),
    }
    return append(location, RESTATEMENTS_TABLE, pa.table(columns).cast(RESTATEMENTS_SCHEMA))


def _pair(old: pa.Table, new: pa.Table) -> pa.Table:
    """Old and new totals side by side for the days both hold (a day the re-fetch found quiet
    counts as zeros on the new side)."""
    old = old.rename_columns([c if c in _KEYS else f"old_{c}" for c in old.column_names])
    new = new.select([*_KEYS, *RESTATED_COLUMNS])
    new = new.rename_columns([*_KEYS, *(f"new_{c}" for c in RESTATED_COLUMNS)])
    joined = old.join(new, list(_KEYS), join_type="left outer")
    for c in RESTATED_COLUMNS:
        index = joined.column_names.index(f"new_{c}")
        filled = pc.fill_null(joined[f"new_{c}"], 0)
        joined = joined.set_column(index, f"new_{c}", filled)
    return joined.sort_by([(key, "ascending") for key in _KEYS])
