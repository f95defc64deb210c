"""Keep the lake small and fast: compact old days, vacuum, checkpoint, sweep dead staging.

Safe while tasks write. Compaction only rewrites days older than ``compact_before`` (days the
DAGs no longer re-fetch), so it never rewrites or conflicts with a routine batch's rows; when
it meets a concurrent commit anyway (a backfill of old days), it is retried like any commit.
Vacuum deletes files no version newer than ``retention`` needs, and files a dead writer left
uncommitted, once they are older than ``retention``: a running task's files are younger.
"""

from __future__ import annotations

import logging
import math
import time
from dataclasses import asdict, dataclass, field
from datetime import date, timedelta
from typing import Any

from deltalake import DeltaTable

from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.delta import (
    TABLES,
    WRITER_PROPERTIES,
    TableSpec,
    committing,
    open_table,
)
from airflow_provider_fansly.storage.legacy import check_not_legacy
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.retention import check_retention

__all__ = ["MaintenanceReport", "maintain", "sweep_staging"]

log = logging.getLogger(__name__)


@dataclass
class MaintenanceReport:
    """What one maintenance pass did, per table, and the staging folders it removed."""

    compacted: dict[str, int] = field(default_factory=dict)
    vacuumed: dict[str, int] = field(default_factory=dict)
    versions: dict[str, int] = field(default_factory=dict)
    staging_swept: int = 0

    def as_dict(self) -> dict[str, Any]:
        """The report as plain values (for XCom)."""
        return asdict(self)


def maintain(
    location: Location,
    *,
    compact_before: date,
    retention: timedelta = timedelta(days=7),
    staging_max_age: timedelta = timedelta(days=1),
) -> MaintenanceReport:
    """Compact, vacuum and checkpoint every table of the lake; sweep abandoned staging."""
    check_retention(retention)
    check_not_legacy(location)
    report = MaintenanceReport()
    for spec in TABLES:
        if open_table(location, spec) is None:
            continue
        report.compacted[spec.name] = _compact(location, spec, compact_before)
        table = open_table(location, spec)  # the snapshot after compaction
        assert table is not None
        report.vacuumed[spec.name] = _vacuum(table, spec.name, retention)
        report.versions[spec.name] = _checkpoint(table)
    report.staging_swept = sweep_staging(location, staging_max_age)
    return report


def _compact(location: Location, spec: TableSpec, before: date) -> int:
    """Rewrite the small files of days older than ``before`` into few large ones."""
    filters = [("dt", "<", before.isoformat())] if "dt" in spec.partition_by else None
    removed = [0]

    def write(table: DeltaTable) -> None:
        metrics = table.optimize.compact(
            partition_filters=filters, writer_properties=WRITER_PROPERTIES
        )
        removed[0] = int(metrics.get("numFilesRemoved", 0))

    committing(location, spec, write, f"compacting {spec.name}")
    log.info("Compacted %s: %d small file(s) rewritten", spec.name, removed[0])
    return removed[0]


def _vacuum(table: DeltaTable, name: str, retention: timedelta) -> int:
    """Delete files no version within ``retention`` needs, and files no commit ever named."""
    deleted = table.vacuum(
        retention_hours=math.ceil(retention.total_seconds() / 3600),
        dry_run=False,
        enforce_retention_duration=False,
        full=True,
    )
    log.info("Vacuumed %s: %d file(s) older than %s deleted", name, len(deleted), retention)
    return len(deleted)


def _checkpoint(table: DeltaTable) -> int:
    """Write a checkpoint (readers stop replaying the whole log) and drop expired log files."""
    table.create_checkpoint()
    table.cleanup_metadata()
    return table.version()


def sweep_staging(location: Location, max_age: timedelta) -> int:
    """Remove try folders under ``_staging/`` whose newest file is older than ``max_age``."""
    store = location.store
    cutoff = time.time() - max_age.total_seconds()
    swept = 0
    for key in store.listdir(layout.STAGING_DIR):
        for attempt in store.listdir(f"{layout.STAGING_DIR}/{key}"):
            folder = layout.staging_dir(key, attempt)
            if store.newest_change(folder) < cutoff:
                store.remove(folder)
                swept += 1
        if not store.listdir(f"{layout.STAGING_DIR}/{key}"):
            store.remove(f"{layout.STAGING_DIR}/{key}")
    if swept:
        log.info("Swept %d abandoned staging folder(s) older than %s", swept, max_age)
    return swept
