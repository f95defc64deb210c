"""Stage a run's files: each partition's rows, written once to the staging area.

Nothing here touches published data: the stager records, for :mod:`.publish`, which staged
file replaces which published one and which published files must go.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import date

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA
from airflow_provider_fansly.storage.store import Store

__all__ = ["Stager"]

_SORT = [("media_offer_id", "ascending"), ("bucket_start", "ascending"), ("stat_type", "ascending")]


def _without(table: pa.Table, media_ids: pa.Array, lo: int | None, hi: int | None) -> pa.Table:
    """Drop the rows of ``media_ids`` (inside ``[lo, hi)`` when given)."""
    mask = pc.is_in(table["media_offer_id"], value_set=media_ids)
    if lo is not None and hi is not None:
        ms = table["bucket_start"].cast(pa.int64())
        mask = pc.and_(mask, pc.and_(pc.greater_equal(ms, lo), pc.less(ms, hi)))
    return table.filter(pc.invert(mask))


@dataclass
class Stager:
    """Stage the files of one run of one key (account + set of media offers) and window."""

    store: Store
    account_id: str
    media_offer_ids: list[str]
    period: int
    after: int
    before: int
    moves: list[tuple[str, str]] = field(default_factory=list)
    deletions: list[str] = field(default_factory=list)

    def __post_init__(self) -> None:
        self.key = layout.file_key(self.account_id, self.media_offer_ids)
        self.dir = layout.staging_dir(self.key, self.period, self.after, self.before)
        self._ids = pa.array(sorted(set(self.media_offer_ids)), pa.string())
        self.store.remove(self.dir)
        self.conflicts = self._conflicting_keys()

    def _conflicting_keys(self) -> dict[str, bool]:
        """Other keys that hold some of our media offers: key -> all of theirs are ours."""
        mine = set(self.media_offer_ids)
        found = {}
        for name in self.store.listdir(layout.KEYS):
            key = name.removesuffix(".json")
            if key == self.key:
                continue
            theirs = set(self.store.read_json(layout.key_manifest(key)).get("media_offer_ids", []))
            if theirs & mine:
                found[key] = theirs <= mine
        return found

    def _stage(self, target: str, table: pa.Table) -> None:
        staged = f"{self.dir}/{target}"
        order = [(name, how) for name, how in _SORT if name in table.column_names]
        self.store.write_table(staged, table.sort_by(order))
        self.moves.append((staged, target))

    def stage_partition(self, day: date, table: pa.Table) -> int:
        """Stage our file of one day (merged with kept rows on a partial day); return rows."""
        start, end = layout.day_bounds(day)
        lo, hi = max(start, self.after), min(end, self.before)
        target = layout.partition_file(self.period, day, self.key)
        if (lo, hi) != (start, end) and self.store.exists(target):
            kept = _without(self.store.read_table(target), self._ids, lo, hi)
            table = pa.concat_tables([kept.cast(MEDIA_STATS_SCHEMA), table])
        self._stage(target, table)
        for other, covered in self.conflicts.items():
            self._strip(
                layout.partition_file(self.period, day, other),
                covered and (lo, hi) == (start, end),
                lo,
                hi,
            )
        return table.num_rows

    def stage_media_offers(self, table: pa.Table) -> None:
        """Stage the media metadata of our media offers, taking them out of other keys' files."""
        self._stage(layout.media_offers_file(self.key), table)
        for other, covered in self.conflicts.items():
            self._strip(layout.media_offers_file(other), covered, None, None)

    def _strip(self, target: str, delete: bool, lo: int | None, hi: int | None) -> None:
        """Take our media offers out of another key's file (a batch that was re-cut)."""
        if not self.store.exists(target):
            return
        if delete:
            self.deletions.append(target)
            return
        self._stage(target, _without(self.store.read_table(target), self._ids, lo, hi))

    def discard(self) -> None:
        """Remove everything staged (after a failure: nothing is published)."""
        self.store.remove(self.dir)
        self.moves.clear()
        self.deletions.clear()
