"""Hold one try's validated rows until its one commit, spilling to the store past a bound.

Most tasks (a day or a few of one batch) fit in one validation batch: those rows stay in
memory and go straight into the commit. Past ``spill_rows`` rows, each further batch is
written to a folder of this try's own (``_staging/{task key}/{try}-{random}``), so a zombie
and its retry, or two copies of one task, never write into each other's files. Staged files
are invisible to readers of the Delta tables; maintenance sweeps folders a dead try left.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator

import pyarrow as pa
import pyarrow.dataset as ds

from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA
from airflow_provider_fansly.storage.store import Store

__all__ = ["Staging"]

_READ_BATCH_ROWS = 131_072
SPILL_ROWS = 400_000


class Staging:
    """The validated rows of one try of one task: the first in memory, the rest in files."""

    def __init__(self, store: Store, key: str, attempt: str, spill_rows: int = SPILL_ROWS) -> None:
        self.store = store
        self.dir = layout.staging_dir(key, f"{attempt}-{uuid.uuid4().hex[:8]}")
        self.spill_rows = spill_rows
        self.held: list[pa.Table] = []
        self.files: list[str] = []
        self.rows = 0

    def add(self, table: pa.Table) -> None:
        """Take one batch of validated rows (:data:`MEDIA_STATS_SCHEMA`)."""
        if not table.num_rows:
            return
        if self.rows + table.num_rows <= self.spill_rows:
            self.held.append(table.cast(MEDIA_STATS_SCHEMA))
        else:
            rel = f"{self.dir}/batch-{len(self.files):05d}.parquet"
            self.store.write_table(rel, table.cast(MEDIA_STATS_SCHEMA))
            self.files.append(rel)
        self.rows += table.num_rows

    def reader(self) -> pa.RecordBatchReader:
        """A fresh stream of every row (one per commit try), in bounded batches."""
        return pa.RecordBatchReader.from_batches(MEDIA_STATS_SCHEMA, self._batches())

    def _batches(self) -> Iterator[pa.RecordBatch]:
        for table in self.held:
            yield from table.to_batches(max_chunksize=_READ_BATCH_ROWS)
        if self.files:
            dataset = ds.dataset(
                [self.store.full(rel) for rel in self.files],
                schema=MEDIA_STATS_SCHEMA,
                format="parquet",
                filesystem=self.store.fs,
            )
            yield from dataset.to_batches(batch_size=_READ_BATCH_ROWS)

    def discard(self) -> None:
        """Drop the rows and remove this try's folder (after its commit, or its failure)."""
        self.held.clear()
        if self.files:
            self.store.remove(self.dir)
