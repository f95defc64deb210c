"""The data path of a run: fetched chunks -> validated batches -> one staged file per UTC day.

Rows wait in two bounded places only: a validation batch (about 400,000 rows, ~35 MB: pandera's
fixed cost per call is amortised over many chunks) and the days not yet complete. Memory
therefore depends on the media offers per chunk, not on the window's length.
"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_fansly.models import MediaStats
from airflow_provider_fansly.schemas import UnknownStatTypes, rows_schema, validate_table
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA, stats_table
from airflow_provider_fansly.storage.writer import Stager
from airflow_provider_fansly.windows import DAY_MS

__all__ = ["VALIDATION_BATCH_ROWS", "RowSink", "frozen_heap"]

VALIDATION_BATCH_ROWS = 400_000


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Hide the objects that exist before the data path from the garbage collector.

    A task process holds ~250,000 objects of Airflow, pandas and pyarrow; every full
    collection (one per ~70,000 allocations while answers are parsed) re-scans them all,
    which measured 2-3x the data path's own time. Freezing them is what ``gc.freeze`` is
    for; the objects the run creates are still collected as usual.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class _DayBuffer:
    """Hold validated rows until their UTC day is complete, then stage that day once."""

    def __init__(self, stager: Stager, after: int, before: int) -> None:
        self.stager = stager
        self.days = layout.days_of(after, before)
        self.parts: dict[date, list[pa.Table]] = {d: [] for d in self.days}
        self.rows = 0
        self.staged = 0

    def add(self, table: pa.Table, complete_before: int) -> None:
        """Add rows; stage every day that ends at or before ``complete_before``."""
        if table.num_rows:
            day_index = pc.divide(table["bucket_start"].cast(pa.int64()), DAY_MS)
            for value in pc.unique(day_index).to_pylist():
                day = layout.day_of(value * DAY_MS)
                self.parts[day].append(table.filter(pc.equal(day_index, value)))
        while self.staged < len(self.days):
            day = self.days[self.staged]
            if layout.day_bounds(day)[1] > complete_before:
                break
            self._flush(day)

    def finish(self) -> None:
        """Stage the days still held (the window's last, possibly partial, day)."""
        for day in self.days[self.staged :]:
            self._flush(day)

    def _flush(self, day: date) -> None:
        tables = self.parts.pop(day)
        table = pa.concat_tables(tables) if tables else MEDIA_STATS_SCHEMA.empty_table()
        self.rows += self.stager.stage_partition(day, table)
        self.staged += 1


class RowSink:
    """Take each fetched chunk (oldest first), validate in batches, stage complete days."""

    def __init__(
        self,
        stager: Stager,
        after: int,
        before: int,
        period: int,
        policy: UnknownStatTypes,
        fetched_at_ms: int,
    ) -> None:
        self.days = _DayBuffer(stager, after, before)
        self.before = before
        self.schema = rows_schema(after, before, period)
        self.policy = policy
        self.fetched_at = fetched_at_ms
        self.pending: list[pa.Table] = []

    @property
    def rows(self) -> int:
        """Rows staged so far."""
        return self.days.rows

    @property
    def partitions(self) -> int:
        """Day partitions staged so far."""
        return self.days.staged

    def add(self, results: Sequence[MediaStats], lo: int, hi: int) -> dict[int, int]:
        """Take the results of the chunk ``[lo, hi)``; return unknown stat types validated."""
        self.pending.append(stats_table(results, self.fetched_at))
        if sum(t.num_rows for t in self.pending) < VALIDATION_BATCH_ROWS:
            return {}
        return self._validate(hi)

    def finish(self) -> dict[int, int]:
        """Validate and stage what is left; return unknown stat types validated."""
        unknown = self._validate(self.before)
        self.days.finish()
        return unknown

    def _validate(self, hi: int) -> dict[int, int]:
        table = pa.concat_tables(self.pending) if self.pending else MEDIA_STATS_SCHEMA.empty_table()
        table, unknown = validate_table(table, self.schema, self.policy)
        self.days.add(table, hi)
        self.pending = []
        return unknown
