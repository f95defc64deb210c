"""Helpers that read a lake back the way users do, and the truth it should hold."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pyarrow.dataset as ds

from airflow_provider_fansly.storage.columns import COUNT_COLUMNS, PARTITION_SCHEMA
from airflow_provider_fansly.testing.synthetic import expected_rows

Row = tuple[Any, ...]


def snapshot(root: Path) -> dict[str, bytes]:
    """Every published byte of the lake (staging excluded)."""
    return {
        str(p.relative_to(root)): p.read_bytes()
        for p in sorted(root.rglob("*"))
        if p.is_file() and "_staging" not in p.parts
    }


def lake_rows(root: Path, period: int | None = None) -> list[Row]:
    """The lake's rows as (media, bucket ms, type, counts...) sorted, read with pyarrow."""
    dataset = ds.dataset(
        str(root / "media_stats"),
        format="parquet",
        partitioning=ds.partitioning(PARTITION_SCHEMA, flavor="hive"),
    )
    table = dataset.to_table()
    rows = []
    for r in table.to_pylist():
        if period is None or r["period_ms"] == period:
            ms = int(r["bucket_start"].timestamp() * 1000)
            rows.append((r["media_offer_id"], ms, r["stat_type"], *(r[c] for c in COUNT_COLUMNS)))
    return sorted(rows)


def truth(account: str, ids: list[str], after: int, before: int, period: int) -> list[Row]:
    """The emulator's rows for the same window."""
    rows = []
    for media in ids:
        for r in expected_rows(account, media, after, before, period):
            rows.append(
                (media, r["bucket_start_ms"], r["stat_type"], *(r[c] for c in COUNT_COLUMNS))
            )
    return sorted(rows)


def partitions(root: Path, period: int) -> list[str]:
    """The ``dt=`` directories of one period."""
    return sorted(p.name for p in (root / "media_stats" / f"period_ms={period}").iterdir())
