"""Lakes of the 0.1 layout (plain Parquet per key and day, ``_keys/`` manifests): detect, convert.

A 0.1 lake is never mixed with the Delta tables: a task refuses it before any request, and
:func:`convert` first moves the old files aside to ``_legacy_v0/`` (outside every table, so
vacuum never touches them), then writes the three tables from them. Each step can be run
again after a crash; the old files stay until the user deletes them.
"""

from __future__ import annotations

import json
import logging
import time
from collections import Counter
from collections.abc import Iterator
from datetime import date

import pyarrow as pa
from deltalake import write_deltalake

from airflow_provider_fansly.client.windows import day_bounds
from airflow_provider_fansly.exceptions import FanslyLegacyLakeError
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import (
    MEDIA_OFFERS_SCHEMA,
    MEDIA_STATS_SCHEMA,
    with_added_fields,
    with_partitions,
)
from airflow_provider_fansly.storage.delta import (
    FETCH_LOG_TABLE,
    MEDIA_OFFERS_TABLE,
    MEDIA_STATS_TABLE,
    WRITER_PROPERTIES,
    TableSpec,
)
from airflow_provider_fansly.storage.fetch_log import DayCounts, TaskFetch, log_rows
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.store import Store

__all__ = ["LEGACY_DIR", "check_not_legacy", "convert", "is_legacy"]

log = logging.getLogger(__name__)
LEGACY_DIR = "_legacy_v0"
_KEYS = "_keys"
CONVERTED_RUN_ID = "converted-from-0.1"


def is_legacy(store: Store) -> bool:
    """Whether the root holds a 0.1 lake: its ``_keys/`` manifests, which only 0.1 wrote (a
    ``media_stats/`` folder without a log may also be data files of a task killed before a
    0.5 commit created the table: those are no data)."""
    return store.exists(_KEYS)


def check_not_legacy(location: Location) -> None:
    """Refuse a 0.1 lake with the command that converts it."""
    if is_legacy(location.store):
        raise FanslyLegacyLakeError(
            f"{location} holds a lake written by airflow-provider-fansly 0.1 (plain Parquet "
            "files and _keys/ manifests); this version keeps Delta tables and will not mix "
            f"them. Convert it once with: fansly-lake convert {location.output_path!r} "
            "(docs/upgrading.md). Nothing was fetched or written"
        )


def convert(location: Location) -> dict[str, int]:
    """Convert a 0.1 lake in place; return how many fetch log entries were written."""
    store = location.store
    if is_legacy(store):
        for name in (layout.MEDIA_STATS_DIR, layout.MEDIA_OFFERS_DIR, _KEYS):
            if store.exists(name):
                store.move(name, f"{LEGACY_DIR}/{name}")
        log.info("Moved the 0.1 files of %s aside to %s/", location, LEGACY_DIR)
    if not store.exists(LEGACY_DIR):
        raise FanslyLegacyLakeError(f"{location} holds no 0.1 lake to convert")
    legacy = store.child(LEGACY_DIR)
    manifests = {
        name.removesuffix(".json"): json.loads(legacy.read_bytes(f"{_KEYS}/{name}"))
        for name in legacy.listdir(_KEYS)
    }
    covered: dict[tuple[str, int], Counter[tuple[str, date]]] = {}
    rows = pa.RecordBatchReader.from_batches(
        MEDIA_STATS_SCHEMA, _stat_batches(legacy, manifests, covered)
    )
    _overwrite(location, MEDIA_STATS_TABLE, rows)
    _overwrite(location, MEDIA_OFFERS_TABLE, _media_offers(legacy))
    entries = _fetch_log(covered)
    _overwrite(location, FETCH_LOG_TABLE, entries)
    return {"fetch_log_rows": entries.num_rows}


def _overwrite(location: Location, spec: TableSpec, data: pa.Table | pa.RecordBatchReader) -> None:
    write_deltalake(
        location.table_uri(spec.name),
        data,
        mode="overwrite",
        partition_by=list(spec.partition_by) or None,
        storage_options=location.storage_options,
        writer_properties=WRITER_PROPERTIES,
    )


def _stat_batches(
    legacy: Store,
    manifests: dict[str, dict[str, object]],
    covered: dict[tuple[str, int], Counter[tuple[str, date]]],
) -> Iterator[pa.RecordBatch]:
    """Every 0.1 data file as Delta rows; note which media offers each day covered."""
    for period_dir in legacy.listdir(layout.MEDIA_STATS_DIR):
        period = int(period_dir.removeprefix("period_ms="))
        for day_dir in legacy.listdir(f"{layout.MEDIA_STATS_DIR}/{period_dir}"):
            day = date.fromisoformat(day_dir.removeprefix("dt="))
            folder = f"{layout.MEDIA_STATS_DIR}/{period_dir}/{day_dir}"
            for name in legacy.listdir(folder):
                key = name.removeprefix("part-").removesuffix(".parquet")
                manifest = manifests.get(key)
                if manifest is None:  # not 0.1's: a later release's file that no log names
                    log.warning("Left out %s/%s: no 0.1 manifest names it", folder, name)
                    continue
                table = legacy.read_table(f"{folder}/{name}")  # timestamps in ms: cast below
                counts = covered.setdefault((str(manifest.get("account_id")), period), Counter())
                for media in manifest.get("media_offer_ids", []):  # type: ignore[attr-defined]
                    counts[(media, day)] += 0
                for media in table["media_offer_id"].to_pylist():
                    counts[(media, day)] += 1
                yield from with_partitions(with_added_fields(table), period).to_batches()


def _media_offers(legacy: Store) -> pa.Table:
    tables = [
        legacy.read_table(f"{layout.MEDIA_OFFERS_DIR}/{name}")
        for name in legacy.listdir(layout.MEDIA_OFFERS_DIR)
    ]
    if not tables:
        return MEDIA_OFFERS_SCHEMA.empty_table()
    return pa.concat_tables(tables).cast(MEDIA_OFFERS_SCHEMA)


def _fetch_log(covered: dict[tuple[str, int], Counter[tuple[str, date]]]) -> pa.Table:
    """A day a 0.1 file existed for counts as fetched for every media offer its key named."""
    now_ms = int(time.time() * 1000)
    tables = []
    for (account, period), counts in covered.items():
        by_day: dict[date, list[str]] = {}
        for media, day in counts:
            by_day.setdefault(day, []).append(media)
        for day, media_ids in sorted(by_day.items()):
            start, end = day_bounds(day)
            task = TaskFetch(
                account_id=account,
                media_offer_ids=sorted(media_ids),
                period=period,
                window=(start, end),
                run_id=CONVERTED_RUN_ID,
                try_number=0,
                fetched_at_ms=now_ms,
            )
            rows = DayCounts(task.media_offer_ids, start, end)
            for media in media_ids:
                rows.add(media, day, counts[(media, day)])
            tables.append(log_rows(task, rows, None))
    return pa.concat_tables(tables) if tables else FETCH_LOG_TABLE.schema.empty_table()
