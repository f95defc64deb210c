"""The data path of a run: fetched chunks -> validated batches -> staged files of one try.

Rows wait in one bounded place only: a validation batch (about 400,000 rows, ~35 MB: pandera's
fixed cost per call is amortised over many chunks). Each validated batch is staged at once,
so memory depends on the media offers per chunk, not on the window's length.
"""

from __future__ import annotations

import gc
from collections.abc import Iterable, Iterator, Sequence
from contextlib import contextmanager

import pyarrow as pa

from airflow_provider_fansly.client.models import MediaOffer, MediaStats
from airflow_provider_fansly.exceptions import FanslyDataError
from airflow_provider_fansly.storage.columns import stats_table, with_partitions
from airflow_provider_fansly.storage.fetch_log import DayCounts
from airflow_provider_fansly.storage.rules import (
    NOTHING_PUBLISHED,
    UnknownStatTypes,
    rows_schema,
    validate_by_media_offer,
    validate_table,
)
from airflow_provider_fansly.storage.staging import Piece, Staging
from airflow_provider_fansly.storage.tags import TagRow, tag_rows

__all__ = ["VALIDATION_BATCH_ROWS", "RowSink", "frozen_heap"]

VALIDATION_BATCH_ROWS = 100_000

#: the rule a tag answer breaks with a negative number
TAGS_RULE = "topFypTags: counts not negative"


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
        media_offer_ids: Sequence[str],
        after: int,
        before: int,
        period: int,
        policy: UnknownStatTypes,
        fetched_at_ms: int,
        quarantine: bool = False,
    ) -> None:
        self.staging = staging
        self.quarantine = quarantine
        #: media offers whose rows broke a rule, set apart (``quarantine``), with their report
        self.invalid: dict[str, str] = {}
        #: the rules each media offer set apart broke
        self.broken_rules: dict[str, tuple[str, ...]] = {}
        self.period = period
        self.schema = rows_schema(after, before, period)
        self.policy = policy
        self.fetched_at = fetched_at_ms
        self.pending: list[pa.Table] = []
        self.pieces: list[Piece] = []
        self.pending_tags: list[TagRow] = []
        self.reused_rows = 0
        self.media: dict[str, MediaOffer] = {}
        #: staged rows per (media offer, UTC day), for the fetch log
        self.per_day = DayCounts(media_offer_ids, after, before)

    @property
    def rows(self) -> int:
        """Rows the commit will hold: staged, and reused from earlier tries."""
        return self.per_day.total()

    def add(self, results: Sequence[MediaStats]) -> dict[int, int]:
        """Take the results of one chunk; return unknown stat types validated so far."""
        self.pending.append(stats_table(results, self.fetched_at))
        self.pieces.extend(
            Piece(r.media_offer_id, r.after, r.before, r.requests, self.fetched_at) for r in results
        )
        self.media.update((m.id, m) for r in results for m in r.media)
        self.pending_tags.extend(tag_rows(results, self.fetched_at))
        if sum(t.num_rows for t in self.pending) < VALIDATION_BATCH_ROWS:
            return {}
        return self._validate()

    def finish(self) -> dict[int, int]:
        """Validate and stage what is left; return unknown stat types validated."""
        return self._validate()

    def checkpoint(self) -> int:
        """Validate what is pending and write every held row to staging, for a retry to reuse.

        Return the pieces (media offer x chunk) written.
        """
        self._validate()
        return self.staging.checkpoint()

    def reuse(self, tables: Iterable[pa.Table]) -> None:
        """Count rows an earlier try staged and this one commits (validated already)."""
        for table in map(self.staging.keep, tables):
            self._count(table)
            self.reused_rows += table.num_rows

    def _validate(self) -> dict[int, int]:
        if not self.pending:
            return {}
        table = pa.concat_tables(self.pending)
        pieces, self.pieces, self.pending = self.pieces, [], []
        tags, self.pending_tags = self.pending_tags, []
        media = [self.media[m] for m in {p.media_offer_id for p in pieces} if m in self.media]
        self._check_tags(tags)
        if self.quarantine:
            table, unknown, failed = validate_by_media_offer(table, self.schema, self.policy)
            self._set_apart(failed)
            pieces = [p for p in pieces if p.media_offer_id not in self.invalid]
        else:
            table, unknown = validate_table(table, self.schema, self.policy)
        staged = with_partitions(table, self.period)
        tags = [t for t in tags if t.media_offer_id not in self.invalid]
        self.staging.add(staged, pieces, media, tags)
        self._count(staged)
        return unknown

    def _check_tags(self, tags: list[TagRow]) -> None:
        """A tag's numbers are counts: a negative one fails the task, or sets its media offer
        apart under quarantine, like any invalid row."""
        bad = sorted({t.media_offer_id for t in tags if min(t.numbers) < 0})
        if not bad:
            return
        report = "topFypTags with a negative number (views, preview views or interaction time)"
        rule = (TAGS_RULE,)
        if not self.quarantine:
            raise FanslyDataError(
                f"{report} for media offer(s) {', '.join(bad)}{NOTHING_PUBLISHED}", rule
            )
        self._set_apart({m: FanslyDataError(report, rule) for m in bad})

    def _set_apart(self, failed: dict[str, FanslyDataError]) -> None:
        """Leave media offers out of the commit, their rows staged earlier included."""
        if not failed:
            return
        self.invalid.update((m, error.report) for m, error in failed.items())
        self.broken_rules.update((m, error.rules) for m, error in failed.items())
        self.staging.leave_out(failed)
        self.per_day.drop(list(failed))

    def _count(self, table: pa.Table) -> None:
        if not table.num_rows:
            return
        self.per_day.add_rows(table)
