"""Which ``media_stats`` partitions the whole-table checks (uniqueness, invariants) read.

A scheduled run reads the partitions whose files were committed since the table version the
last run judged, not the whole table: a day's work costs the same on a year's lake as on a
month's. A key's bucket lies in its partition's day, so a duplicate can only sit in one
partition, and reading a changed partition whole checks its new rows against the rest of
that day. A full pass (``audit``, or when no earlier version can be compared) reads every
partition, a bounded group at a time.
"""

from __future__ import annotations

import logging
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import DeltaTable
from deltalake.exceptions import DeltaError

from airflow_provider_fansly.storage.actions import live_files
from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE, table_at
from airflow_provider_fansly.storage.location import Location

__all__ = ["GROUP_ROWS", "Partition", "Scope", "changed_since", "groups", "where"]

log = logging.getLogger(__name__)

#: About how many rows one group of partitions holds when a check reads it.
GROUP_ROWS = 1_000_000

#: A ``media_stats`` partition: (period in ms, UTC day).
Partition = tuple[int, date]


@dataclass(frozen=True)
class Scope:
    """What a run judges: ``mode`` (``incremental`` or ``full``), the table ``version``, the
    version it compared with (``since``), and the partitions read (``None``: all)."""

    mode: str
    version: int | None
    since: int | None = None
    partitions: frozenset[Partition] | None = None

    def describe(self) -> str:
        """One line for the log and the results."""
        if self.partitions is None:
            return f"a full pass over version {self.version}"
        return (
            f"{len(self.partitions)} partition(s) changed from version {self.since} "
            f"to {self.version}"
        )


def _partitions(table: DeltaTable) -> pa.Table:
    """Each live file's path, partition and row count."""
    files = live_files(table)
    return pa.table(
        {
            "path": files["path"],
            "period_ms": files["partition.period_ms"],
            "dt": files["partition.dt"],
            "rows": files["num_records"],
        }
    )


def changed_since(location: Location, table: DeltaTable, since: int | None) -> Scope:
    """The partitions of ``table`` with files added after version ``since``; a full scope when
    ``since`` is ``None`` or its log is gone (cleaned up), which is logged."""
    version = table.version()
    if since is None:
        return Scope("full", version)
    try:
        before = _partitions(table_at(location, MEDIA_STATS_TABLE, since))
    except (DeltaError, OSError) as error:
        log.info("Version %d of media_stats cannot be read (%s): a full pass instead", since, error)
        return Scope("full", version)
    now = _partitions(table)
    fresh = now.filter(pc.invert(pc.is_in(now["path"], before["path"])))
    keys = zip(fresh["period_ms"].to_pylist(), fresh["dt"].to_pylist(), strict=True)
    return Scope("incremental", version, since, frozenset(keys))


def groups(table: DeltaTable, scope: Scope) -> Iterator[list[Partition]]:
    """The scope's partitions in groups of about :data:`GROUP_ROWS` rows, oldest first."""
    files = _partitions(table)
    sizes: dict[Partition, int] = {}
    for period, day, rows in zip(
        files["period_ms"].to_pylist(),
        files["dt"].to_pylist(),
        files["rows"].to_pylist(),
        strict=True,
    ):
        if scope.partitions is None or (period, day) in scope.partitions:
            sizes[(period, day)] = sizes.get((period, day), 0) + int(rows or 0)
    group: list[Partition] = []
    held = 0
    for partition in sorted(sizes, key=lambda p: (p[1], p[0])):
        group.append(partition)
        held += sizes[partition]
        if held >= GROUP_ROWS:
            yield group
            group, held = [], 0
    if group:
        yield group


def where(group: list[Partition]) -> pc.Expression:
    """The rows of a group of partitions."""
    by_period: dict[int, list[date]] = {}
    for period, day in group:
        by_period.setdefault(period, []).append(day)
    clauses = [
        (pc.field("period_ms") == period) & pc.field("dt").isin(pa.array(days, pa.date32()))
        for period, days in by_period.items()
    ]
    expression = clauses[0]
    for clause in clauses[1:]:
        expression = expression | clause
    return expression
