"""The coverage calendar: per account and UTC day, whether the lake holds what it should.

It is drawn from the ``fetch_log`` table alone (one row per media offer, day and try), with
the rule of :func:`..storage.fetch_log.media_days`: a (media offer, day) is *fetched* when
the fetched windows cover the day without a hole, and *gone* when its latest answer was
"gone". A day's cell is then, in this order:

- ``not_due``: today or later (UTC), its data is not final yet;
- ``before``: before the account's first fetched day (the lake's history starts later);
- ``gap``: an expected media offer is neither fetched nor gone that day;
- ``gone``: every expected media offer is held, and one answered gone for the first time;
- ``covered``: every expected media offer fetched, with datapoints;
- ``quiet``: every expected media offer fetched, none had a datapoint.

Expected media offers are those the lake's configuration lists for the account, else every
media offer the fetch log knows for it; one that answered gone stops being expected after
the first day it did (later "gone" answers are not news, later days not gaps).
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from airflow_provider_fansly.storage.fetch_log import media_days, read_log
from airflow_provider_fansly.storage.location import Location

__all__ = ["STATUSES", "Calendar", "Cell", "read_calendar"]

STATUSES = ("covered", "quiet", "gone", "gap", "not_due", "before")


@dataclass(frozen=True)
class Cell:
    """One account's day: its status and the counts behind it."""

    day: date
    status: str
    expected: int
    fetched: int
    gone: int
    rows: int

    @property
    def missing(self) -> int:
        """Expected media offers neither fetched nor gone that day."""
        return max(0, self.expected - self.fetched - self.gone)


@dataclass(frozen=True)
class Calendar:
    """Every account's days in ``[first, today]``, with what each media offer's day holds.

    ``media`` has one row per (account, media offer, day) the fetch log names, with the
    booleans ``fetched`` and ``gone`` and the day's ``rows``: it answers a click on a cell.
    """

    first: date
    today: date
    expected: dict[str, tuple[str, ...]]
    media: pl.DataFrame
    cells: dict[str, list[Cell]]

    def missing(self, account_id: str, day: date) -> tuple[list[str], list[str]]:
        """The media offers of an account not held that day, and those that answered gone."""
        expected = set(_still_expected(self, account_id, day))
        held = self.media.filter((pl.col("account_id") == account_id) & (pl.col("dt") == day))
        fetched = set(held.filter(pl.col("fetched"))["media_offer_id"].to_list())
        gone = set(held.filter(pl.col("gone"))["media_offer_id"].to_list())
        return sorted(expected - fetched - gone), sorted(gone & expected)

    def newest(self) -> dict[str, date | None]:
        """Per account, the newest day holding a datapoint."""
        with_rows = self.media.filter(pl.col("rows") > 0)
        newest = with_rows.group_by("account_id").agg(pl.col("dt").max())
        found = dict(zip(newest["account_id"].to_list(), newest["dt"].to_list(), strict=True))
        return {account: found.get(account) for account in self.expected}


def _still_expected(calendar: Calendar, account_id: str, day: date) -> list[str]:
    """The account's expected media offers less those that answered gone before ``day``."""
    gone_before = calendar.media.filter(
        (pl.col("account_id") == account_id) & pl.col("gone") & (pl.col("dt") < day)
    )["media_offer_id"]
    dropped = set(gone_before.to_list())
    return [m for m in calendar.expected.get(account_id, ()) if m not in dropped]


def read_calendar(
    location: Location,
    period: int,
    today: date,
    days: int = 365,
    expected: Mapping[str, Sequence[str]] | None = None,
) -> Calendar:
    """Read the fetch log of one period and lay out the ``days`` up to ``today`` (included)."""
    media = media_days(read_log(location, period))
    if expected:
        wanted = {a: tuple(sorted(set(ids))) for a, ids in expected.items()}
        pairs = pl.DataFrame(
            [(a, m) for a, ids in wanted.items() for m in ids],
            schema={"account_id": pl.Utf8, "media_offer_id": pl.Utf8},
            orient="row",
        )
        media = media.join(pairs, on=["account_id", "media_offer_id"], how="semi")
    else:
        known = media.group_by("account_id").agg(pl.col("media_offer_id").unique().sort())
        wanted = {r["account_id"]: tuple(r["media_offer_id"]) for r in known.iter_rows(named=True)}
    first = today - timedelta(days=days - 1)
    cells = {a: _cells(media, a, ids, first, today) for a, ids in sorted(wanted.items())}
    return Calendar(first, today, wanted, media, cells)


def _cells(
    media: pl.DataFrame, account: str, ids: tuple[str, ...], first: date, today: date
) -> list[Cell]:
    """The account's cells from ``first`` to ``today``."""
    mine = _since_gone(media.filter(pl.col("account_id") == account))
    per_day = mine.group_by("dt").agg(
        pl.col("fetched").sum().alias("fetched"),
        pl.col("gone").sum().alias("gone"),
        pl.col("rows").sum().alias("rows"),
    )
    by_day = {r["dt"]: r for r in per_day.iter_rows(named=True)}
    start: date | None = min(mine.filter(pl.col("fetched"))["dt"].to_list(), default=None)
    gone_from = np.sort(mine["gone_from"].drop_nulls().unique().cast(pl.Int32).to_numpy())
    cells = []
    for offset in range((today - first).days + 1):
        day = first + timedelta(days=offset)
        held = by_day.get(day, {"fetched": 0, "gone": 0, "rows": 0})
        dropped = int(np.searchsorted(gone_from, (day - date(1970, 1, 1)).days, side="left"))
        expected = len(ids) - dropped
        status = _status(day, today, start, expected, held)
        cells.append(
            Cell(day, status, expected, int(held["fetched"]), int(held["gone"]), int(held["rows"]))
        )
    return cells


def _since_gone(media: pl.DataFrame) -> pl.DataFrame:
    """Add each media offer's first gone day, and drop its days after it: it is no longer
    expected then, so a later "gone" answer is not news and a later fetch not a gap."""
    gone_from = (
        media.filter(pl.col("gone"))
        .group_by("account_id", "media_offer_id")
        .agg(pl.col("dt").min().alias("gone_from"))
    )
    joined = media.join(gone_from, on=["account_id", "media_offer_id"], how="left")
    return joined.filter(pl.col("gone_from").is_null() | (pl.col("dt") <= pl.col("gone_from")))


def _status(
    day: date, today: date, start: date | None, expected: int, held: Mapping[str, int]
) -> str:
    """One cell's status (see the module's docstring for the order)."""
    if day >= today:
        return "not_due"
    if start is None or day < start:
        return "before"
    if held["fetched"] + held["gone"] < expected:
        return "gap"
    if held["gone"]:
        return "gone"
    return "covered" if held["rows"] else "quiet"
