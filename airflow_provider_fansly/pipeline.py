"""The data path of a run: fetched chunks -> validated batches -> staged files of one try.

Rows wait in one bounded place only: a validation batch (about 400,000 rows, ~35 MB: pandera's
fixed cost per call is amortised over many chunks). Each validated batch is staged at once,
so memory depends on the media offers per chunk, not on the window's length.
"""

from __future__ import annotations

import gc
from collections import Counter
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from datetime import date

import pyarrow as pa

from airflow_provider_fansly.models import MediaStats
from airflow_provider_fansly.schemas import UnknownStatTypes, rows_schema, validate_table
from airflow_provider_fansly.storage.columns import ROWS_SCHEMA, stats_table, with_partitions
from airflow_provider_fansly.storage.staging import Staging

__all__ = ["VALIDATION_BATCH_ROWS", "RowSink", "frozen_heap"]

VALIDATION_BATCH_ROWS = 400_000


@contextmanager
def frozen_heap() -> Iterator[None]:
    """Hide the objects that exist before the data path from the garbage collector.

    A task process holds a few hundred thousand objects of Airflow, pandas and pyarrow; every
    full collection (frequent while answers are parsed) would re-scan them all, at a cost
    larger than the data path's own. Freezing them is what ``gc.freeze`` is for; the objects
    the run creates are still collected as usual.
    """
    gc.freeze()
    try:
        yield
    finally:
        gc.unfreeze()


class RowSink:
    """Take each fetched chunk, validate in batches, stage every validated batch."""

    def __init__(
        self,
        staging: Staging,
        after: int,
        before: int,
        period: int,
        policy: UnknownStatTypes,
        fetched_at_ms: int,
    ) -> None:
        self.staging = staging
        self.period = period
        self.schema = rows_schema(after, before, period)
        self.policy = policy
        self.fetched_at = fetched_at_ms
        self.pending: list[pa.Table] = []
        #: staged rows per (media offer, UTC day), for the fetch log
        self.per_day: Counter[tuple[str, date]] = Counter()

    @property
    def rows(self) -> int:
        """Rows staged so far."""
        return self.staging.rows

    def add(self, results: Sequence[MediaStats]) -> dict[int, int]:
        """Take the results of one chunk; return unknown stat types validated so far."""
        self.pending.append(stats_table(results, self.fetched_at))
        if sum(t.num_rows for t in self.pending) < VALIDATION_BATCH_ROWS:
            return {}
        return self._validate()

    def finish(self) -> dict[int, int]:
        """Validate and stage what is left; return unknown stat types validated."""
        return self._validate()

    def _validate(self) -> dict[int, int]:
        table = pa.concat_tables(self.pending) if self.pending else ROWS_SCHEMA.empty_table()
        self.pending = []
        table, unknown = validate_table(table, self.schema, self.policy)
        staged = with_partitions(table, self.period)
        self.staging.add(staged)
        self._count(staged)
        return unknown

    def _count(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        grouped = table.group_by(["media_offer_id", "dt"]).aggregate([("stat_type", "count")])
        names = ("media_offer_id", "dt", "stat_type_count")
        for media, day, rows in zip(*(grouped[n].to_pylist() for n in names), strict=True):
            self.per_day[(media, day)] += rows
