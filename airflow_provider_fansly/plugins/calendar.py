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

Only the days on screen are read from the fetch log. What the calendar needs of all history
(each media offer's first fetched and first gone day: who is expected, where an account's
history starts) is a :class:`~..storage.history.History`, a row per media offer, which the
next version of the log updates from the files added since instead of reading the whole log
again.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from airflow_provider_fansly.client.windows import day_spans
from airflow_provider_fansly.storage.fetch_log import media_days, read_log
from airflow_provider_fansly.storage.history import History, read_history
from airflow_provider_fansly.storage.location import Location

__all__ = ["STATUSES", "Calendar", "Cell", "read_calendar"]

_PAIR = ["account_id", "media_offer_id"]
#: Days the calendar lays out at once (a day's media offers are judged within its own rows:
#: memory follows the span).
_SPAN_DAYS = 31


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

    ``media`` has one row per (account, media offer, day) the fetch log names in those days,
    with the booleans ``fetched`` and ``gone`` and the day's ``rows``: it answers a click on
    a cell. ``gone_from`` is each media offer's first gone day, from the whole history.
    """

    first: date
    today: date
    expected: dict[str, tuple[str, ...]]
    media: pl.DataFrame
    cells: dict[str, list[Cell]]
    gone_from: dict[tuple[str, str], date]

    def missing(self, account_id: str, day: date) -> tuple[list[str], list[str]]:
        """The media offers of an account not held that day, and those that answered gone."""
        expected = set(self._still_expected(account_id, day))
        held = self.media.filter((pl.col("account_id") == account_id) & (pl.col("dt") == day))
        fetched = set(held.filter(pl.col("fetched"))["media_offer_id"].to_list())
        gone = set(held.filter(pl.col("gone"))["media_offer_id"].to_list())
        return sorted(expected - fetched - gone), sorted(gone & expected)

    def newest(self) -> dict[str, date | None]:
        """Per account, the newest day of the calendar holding a datapoint."""
        with_rows = self.media.filter(pl.col("rows") > 0)
        newest = with_rows.group_by("account_id").agg(pl.col("dt").max())
        found = dict(zip(newest["account_id"].to_list(), newest["dt"].to_list(), strict=True))
        return {account: found.get(account) for account in self.expected}

    def _still_expected(self, account_id: str, day: date) -> list[str]:
        """The account's expected media offers less those that answered gone before ``day``."""
        ids = self.expected.get(account_id, ())
        return [m for m in ids if not self.gone_from.get((account_id, m), day) < day]


def read_calendar(
    location: Location,
    period: int,
    today: date,
    days: int = 365,
    expected: Mapping[str, Sequence[str]] | None = None,
    history: History | None = None,
) -> Calendar:
    """Read the fetch log of one period's ``days`` up to ``today`` (included) and lay them
    out; ``history`` (read here when not given) says what lies before them."""
    history = history or read_history(location, period)
    first = today - timedelta(days=days - 1)
    media = pl.concat(
        [
            media_days(read_log(location, period, lo, hi))
            for lo, hi in day_spans(first, today, _SPAN_DAYS)
        ]
    )
    firsts = history.firsts
    if expected:
        wanted = {a: tuple(sorted(set(ids))) for a, ids in expected.items()}
        pairs = pl.DataFrame(
            [(a, m) for a, ids in wanted.items() for m in ids],
            schema={"account_id": pl.Utf8, "media_offer_id": pl.Utf8},
            orient="row",
        )
        media = media.join(pairs, on=_PAIR, how="semi")
        firsts = firsts.join(pairs, on=_PAIR, how="semi")
    else:
        known = firsts.group_by("account_id").agg(pl.col("media_offer_id").unique().sort())
        wanted = {r["account_id"]: tuple(r["media_offer_id"]) for r in known.iter_rows(named=True)}
    gone_from = {
        (r["account_id"], r["media_offer_id"]): r["first_gone"]
        for r in firsts.filter(pl.col("first_gone").is_not_null()).iter_rows(named=True)
    }
    earlier = firsts.filter(pl.col("first_fetched") < first).group_by("account_id").len()
    before = set(earlier["account_id"].to_list())
    per_account = media.partition_by("account_id", as_dict=True)
    empty = media.clear()
    cells = {
        a: _cells(per_account.get((a,), empty), a, ids, first, today, gone_from, a in before)
        for a, ids in sorted(wanted.items())
    }
    return Calendar(first, today, wanted, media, cells, gone_from)


def _cells(
    media: pl.DataFrame,
    account: str,
    ids: tuple[str, ...],
    first: date,
    today: date,
    gone_from: Mapping[tuple[str, str], date],
    fetched_before: bool,
) -> list[Cell]:
    """The account's cells from ``first`` to ``today``, from its rows of ``media``;
    ``fetched_before``: its history starts before ``first``."""
    gone_days = {m: gone_from[(account, m)] for m in ids if (account, m) in gone_from}
    mine = media
    if gone_days:
        dropped = pl.DataFrame(
            {"media_offer_id": list(gone_days), "gone_from": list(gone_days.values())},
            schema={"media_offer_id": pl.Utf8, "gone_from": pl.Date},
        )
        mine = mine.join(dropped, on="media_offer_id", how="left").filter(
            pl.col("gone_from").is_null() | (pl.col("dt") <= pl.col("gone_from"))
        )
    per_day = mine.group_by("dt").agg(
        pl.col("fetched").sum().alias("fetched"),
        pl.col("gone").sum().alias("gone"),
        pl.col("rows").sum().alias("rows"),
    )
    by_day = {r["dt"]: r for r in per_day.iter_rows(named=True)}
    start: date | None = (
        first - timedelta(days=1)
        if fetched_before
        else min(mine.filter(pl.col("fetched"))["dt"].to_list(), default=None)
    )
    ordinals = np.sort(np.array([(d - date(1970, 1, 1)).days for d in gone_days.values()]))
    cells = []
    for offset in range((today - first).days + 1):
        day = first + timedelta(days=offset)
        held = by_day.get(day, {"fetched": 0, "gone": 0, "rows": 0})
        dropped_now = int(np.searchsorted(ordinals, (day - date(1970, 1, 1)).days, side="left"))
        expected = len(ids) - dropped_now
        status = _status(day, today, start, expected, held)
        cells.append(
            Cell(day, status, expected, int(held["fetched"]), int(held["gone"]), int(held["rows"]))
        )
    return cells


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
