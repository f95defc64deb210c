"""Stage one try's validated rows outside the tables, then stream them into its one commit.

Each try gets a folder of its own (``_staging/{task key}/{try}-{random}``), so a zombie and
its retry, or two copies of one task, never write into each other's files. Staged files are
invisible to readers of the Delta tables; maintenance sweeps folders a dead try left behind.
"""

from __future__ import annotations

import uuid

import pyarrow as pa
import pyarrow.dataset as ds

from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA
from airflow_provider_fansly.storage.store import Store

__all__ = ["Staging"]

_READ_BATCH_ROWS = 131_072


class Staging:
    """The staged batches of one try of one task."""

    def __init__(self, store: Store, key: str, attempt: str) -> None:
        self.store = store
        self.dir = layout.staging_dir(key, f"{attempt}-{uuid.uuid4().hex[:8]}")
        self.files: list[str] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        """Write one batch of validated rows (:data:`MEDIA_STATS_SCHEMA`) to its own file."""
        if not table.num_rows:
            return
        rel = f"{self.dir}/batch-{len(self.files):05d}.parquet"
        self.store.write_table(rel, table.cast(MEDIA_STATS_SCHEMA))
        self.files.append(rel)
        self.rows += table.num_rows

    def reader(self) -> pa.RecordBatchReader:
        """A fresh stream of every staged row (one per commit try), in bounded batches."""
        if not self.files:
            return pa.RecordBatchReader.from_batches(MEDIA_STATS_SCHEMA, [])
        dataset = ds.dataset(
            [self.store.full(rel) for rel in self.files],
            schema=MEDIA_STATS_SCHEMA,
            format="parquet",
            filesystem=self.store.fs,
        )
        return dataset.scanner(batch_size=_READ_BATCH_ROWS).to_reader()

    def discard(self) -> None:
        """Remove this try's folder (after its commit, or after it failed)."""
        self.store.remove(self.dir)
