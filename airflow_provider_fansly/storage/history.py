"""A period's whole fetch history, a row per media offer: what neither fades nor grows.

The page and the quality checks judge a few weeks at a time, but who is expected, where an
account's history starts and the newest day it was fetched are questions of all history: an
outage longer than the days judged must not make an account look new, or absent. A
:class:`History` answers them from the ``fetch_log`` table, a million rows at a time, and the
next version of the log updates it from the files added since instead of reading it again.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date

import polars as pl
import pyarrow.compute as pc
import pyarrow.dataset as ds

from airflow_provider_fansly.storage.actions import live_files
from airflow_provider_fansly.storage.delta import FETCH_LOG_TABLE, open_table
from airflow_provider_fansly.storage.layout import FETCH_LOG_DIR, FETCHED, GONE
from airflow_provider_fansly.storage.location import Location

__all__ = ["History", "read_history"]

_PAIR = ["account_id", "media_offer_id"]
#: How many fetch log rows are read at once (memory follows this, not the log's size).
_BATCH_ROWS = 1_000_000
_FIRSTS = pl.Schema(
    {"account_id": pl.Utf8, "media_offer_id": pl.Utf8, "first_fetched": pl.Date,
     "last_fetched": pl.Date, "first_gone": pl.Date}
)  # fmt: skip


@dataclass(frozen=True)
class History:
    """A row per media offer of a period's whole fetch log: the first and last day it was
    fetched and the first day it answered gone; and the log's files it was read from."""

    files: frozenset[str]
    firsts: pl.DataFrame

    def expected(self, since: date, until: date) -> dict[str, list[str]]:
        """Per account, every media offer first fetched (or found gone) by ``until``, less
        those gone before ``since``: the days ``[since, until]`` expect them."""
        first_seen = pl.min_horizontal("first_fetched", "first_gone")
        kept = self.firsts.filter(
            (first_seen <= until)
            & (pl.col("first_gone").is_null() | (pl.col("first_gone") >= since))
        )
        grouped = kept.group_by("account_id").agg(pl.col("media_offer_id").sort())
        return {r["account_id"]: r["media_offer_id"] for r in grouped.to_dicts()}

    def first_fetched(self) -> dict[str, date]:
        """Per account, the first day any of its media offers was fetched."""
        return self._per_account(pl.col("first_fetched").min())

    def last_fetched(self) -> dict[str, date]:
        """Per account, the newest day any of its media offers was fetched."""
        return self._per_account(pl.col("last_fetched").max())

    def _per_account(self, what: pl.Expr) -> dict[str, date]:
        found = self.firsts.group_by("account_id").agg(what.alias("day")).drop_nulls("day")
        return dict(zip(found["account_id"].to_list(), found["day"].to_list(), strict=True))


def read_history(location: Location, period: int, previous: History | None = None) -> History:
    """The period's :class:`History`, from ``previous`` and the files added since it when it
    still holds (maintenance rewrote none of them), else from the whole log."""
    table = open_table(location, FETCH_LOG_TABLE)
    if table is None:
        return History(frozenset(), pl.DataFrame(schema=_FIRSTS))
    actions = live_files(table)
    mine = actions.filter(pc.equal(actions["partition.period_ms"], period))
    paths = frozenset(mine["path"].to_pylist())
    base = previous if previous is not None and previous.files <= paths else None
    new = paths - base.files if base is not None else paths
    dataset = table.to_pyarrow_dataset()
    fragments = [f for f in dataset.get_fragments() if _relative(f.path) in new]
    found = ds.FileSystemDataset(fragments, dataset.schema, dataset.format, dataset.filesystem)
    parts = [] if base is None else [base.firsts]
    for batch in found.to_batches(columns=[*_PAIR, "dt", "status"], batch_size=_BATCH_ROWS):
        rows = pl.DataFrame(pl.from_arrow(batch))
        fetched = pl.col("dt").filter(pl.col("status") == FETCHED)
        firsts = rows.group_by(_PAIR).agg(
            fetched.min().alias("first_fetched"),
            fetched.max().alias("last_fetched"),
            pl.col("dt").filter(pl.col("status") == GONE).min().alias("first_gone"),
        )
        parts.append(firsts.cast(_FIRSTS))
    merged = pl.concat(parts) if parts else pl.DataFrame(schema=_FIRSTS)
    firsts = merged.group_by(_PAIR).agg(
        pl.col("first_fetched").min(), pl.col("last_fetched").max(), pl.col("first_gone").min()
    )
    return History(paths, firsts.cast(_FIRSTS).sort(_PAIR))


def _relative(path: str) -> str:
    """A fragment's path inside the table (as the log names its files)."""
    return path.rsplit(f"/{FETCH_LOG_DIR}/", 1)[-1]
