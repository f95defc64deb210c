"""The coverage calendar: per account and UTC day, whether the lake holds what it should.

It is drawn from the ``fetch_log`` table alone (one row per media offer, day and try), and
judged by the rule of :mod:`..storage.expectation` (what a day expects, what it holds), as
the quality checks are. A day's cell is then, in this order:

- ``not_due``: today or later (UTC), its data is not final yet;
- ``before``: before the account's start (the lake's history starts later);
- ``gap``: an expected media offer is neither fetched nor gone that day;
- ``gone``: every expected media offer is held, and one answered gone for the first time;
- ``covered``: every expected media offer fetched, with datapoints;
- ``quiet``: every expected media offer fetched, none had a datapoint.

Only the days on screen are read from the fetch log. What the calendar needs of all history
(each media offer's first fetched and first gone day: who is expected, where an account's
history starts) is a :class:`~..storage.history.History`, a row per media offer, which the
next version of the log updates from the files added since instead of reading the whole log
again.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from datetime import date, timedelta

import numpy as np
import polars as pl

from airflow_provider_fansly.client.windows import day_spans
from airflow_provider_fansly.storage.discovery import cadence_of
from airflow_provider_fansly.storage.expectation import Expectation, expectation
from airflow_provider_fansly.storage.fetch_log import media_days, read_log
from airflow_provider_fansly.storage.history import History, read_history
from airflow_provider_fansly.storage.layout import FETCHED, GONE
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
    a cell. ``rule`` is what the days expect (:mod:`..storage.expectation`).
    """

    first: date
    today: date
    rule: Expectation
    media: pl.DataFrame
    cells: dict[str, list[Cell]]

    @property
    def expected(self) -> Mapping[str, tuple[str, ...]]:
        """Per account, the media offers the calendar judges."""
        return self.rule.media

    def missing(self, account_id: str, day: date) -> tuple[list[str], list[str]]:
        """The media offers of an account not held that day, and those that answered gone."""
        held = self.media.filter((pl.col("account_id") == account_id) & (pl.col("dt") == day))
        status = {
            m: GONE if gone else FETCHED
            for m, fetched, gone in held.select("media_offer_id", "fetched", "gone").iter_rows()
            if fetched or gone
        }
        judged = self.rule.judge(account_id, day, status)
        return sorted(judged.missing), sorted(judged.gone)

    def newest(self) -> dict[str, date | None]:
        """Per account, the newest day of the calendar holding a datapoint."""
        with_rows = self.media.filter(pl.col("rows") > 0)
        newest = with_rows.group_by("account_id").agg(pl.col("dt").max())
        found = dict(zip(newest["account_id"].to_list(), newest["dt"].to_list(), strict=True))
        return {account: found.get(account) for account in self.expected}


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
    yesterday = today - timedelta(days=1)
    cadence = cadence_of(location, period, yesterday)
    rule = expectation(history, expected, None, cadence, yesterday)
    first = today - timedelta(days=days - 1)
    media = pl.concat(
        [
            media_days(read_log(location, period, lo, hi))
            for lo, hi in day_spans(first, today, _SPAN_DAYS)
        ]
    )
    pairs = pl.DataFrame(
        [(a, m) for a, ids in rule.media.items() for m in ids],
        schema={"account_id": pl.Utf8, "media_offer_id": pl.Utf8},
        orient="row",
    )
    media = media.join(pairs, on=_PAIR, how="semi")
    per_account = media.partition_by("account_id", as_dict=True)
    empty = media.clear()
    cells = {
        a: _cells(per_account.get((a,), empty), a, rule, first, today) for a in sorted(rule.media)
    }
    return Calendar(first, today, rule, media, cells)


def _cells(
    media: pl.DataFrame, account: str, rule: Expectation, first: date, today: date
) -> list[Cell]:
    """The account's cells from ``first`` to ``today``, from its rows of ``media``, counted
    by the rule: a media offer's rows after its last expected day are not counted."""
    gone_days = rule.last_days(account)
    mine = media
    if gone_days:
        dropped = pl.DataFrame(
            {"media_offer_id": list(gone_days), "last_day": list(gone_days.values())},
            schema={"media_offer_id": pl.Utf8, "last_day": pl.Date},
        )
        mine = mine.join(dropped, on="media_offer_id", how="left").filter(
            pl.col("last_day").is_null() | (pl.col("dt") <= pl.col("last_day"))
        )
    per_day = mine.group_by("dt").agg(
        pl.col("fetched").sum().alias("fetched"),
        pl.col("gone").sum().alias("gone"),
        pl.col("rows").sum().alias("rows"),
    )
    by_day = {r["dt"]: r for r in per_day.iter_rows(named=True)}
    ordinals = _ordinals(gone_days.values())
    joins = _ordinals(rule.first_days(account).values())
    total, start = len(rule.media[account]), rule.start(account)
    cells = []
    for offset in range((today - first).days + 1):
        day = first + timedelta(days=offset)
        held = by_day.get(day, {"fetched": 0, "gone": 0, "rows": 0})
        day_n = (day - date(1970, 1, 1)).days
        dropped_now = int(np.searchsorted(ordinals, day_n, side="left"))
        not_yet = len(joins) - int(np.searchsorted(joins, day_n, side="right"))
        expected = total - dropped_now - not_yet
        status = _status(day, today, start, expected, held)
        cells.append(
            Cell(day, status, expected, int(held["fetched"]), int(held["gone"]), int(held["rows"]))
        )
    return cells


def _ordinals(days: Iterable[date]) -> np.ndarray:
    """Days as sorted day numbers, for counting how many fall before a day."""
    return np.sort(np.array([(d - date(1970, 1, 1)).days for d in days], dtype=np.int64))


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
