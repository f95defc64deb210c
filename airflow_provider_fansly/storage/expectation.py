"""The one rule for an account's media offer on a day: expected, and then held or a gap.

The quality checks, the page's calendar and :func:`..coverage.coverage_gaps` all judge by it:

- an account's days are judged from its *start*: the first day given, else the first day any
  of its media offers was fetched (an account never fetched has no start, nothing to judge);
- its media offers are the list given for it, else every one its fetch log knows;
- a media offer is *expected* on a day from the start until the first day it answered gone
  (deleted or not found), that day included: later "gone" answers are not news, later days
  do not expect it;
- an expected media offer is *held* on a day when the fetch log says it was fetched whole
  that day, or answered gone; else the day is a *gap* for it.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import date

import polars as pl

from airflow_provider_fansly.storage.fetch_log import Coverage
from airflow_provider_fansly.storage.history import History
from airflow_provider_fansly.storage.layout import GONE

__all__ = ["DayJudgement", "Expectation", "expectation", "held_by_day"]

_PAIR = ["account_id", "media_offer_id"]


@dataclass(frozen=True)
class DayJudgement:
    """An account's day: its expected media offers not held (``missing``), and those that
    answered gone that day for the first time."""

    missing: tuple[str, ...]
    gone: tuple[str, ...]


@dataclass(frozen=True)
class Expectation:
    """Per account its media offers and start, and each media offer's first gone day."""

    media: Mapping[str, tuple[str, ...]]
    starts: Mapping[str, date]
    gone_from: Mapping[tuple[str, str], date]

    def start(self, account_id: str) -> date | None:
        """The first day judged for the account; ``None``: nothing is."""
        return self.starts.get(account_id)

    def expects(self, account_id: str, media_offer_id: str, day: date) -> bool:
        """Whether the day expects this media offer of the account."""
        start = self.starts.get(account_id)
        gone = self.gone_from.get((account_id, media_offer_id))
        return start is not None and start <= day and (gone is None or day <= gone)

    def expected_on(self, account_id: str, day: date) -> list[str]:
        """The account's media offers the day expects."""
        ids = self.media.get(account_id, ())
        return [m for m in ids if self.expects(account_id, m, day)]

    def judge(self, account_id: str, day: date, held: Mapping[str, str]) -> DayJudgement:
        """The day, from what the fetch log holds of it (media offer -> fetched or gone)."""
        ids = self.expected_on(account_id, day)
        missing = tuple(m for m in ids if m not in held)
        return DayJudgement(missing, tuple(m for m in ids if held.get(m) == GONE))

    def gone_dates(self, account_id: str) -> dict[str, date]:
        """The account's media offers that answered gone, with their first gone day."""
        ids = self.media.get(account_id, ())
        return {m: self.gone_from[account_id, m] for m in ids if (account_id, m) in self.gone_from}


def expectation(
    history: History,
    media: Mapping[str, Sequence[str]] | None = None,
    start: date | None = None,
) -> Expectation:
    """The rule for a period, from its whole :class:`History`; ``media`` (account -> media
    offers) and ``start`` replace what the history says when given."""
    firsts = history.firsts
    if media:
        wanted = {a: tuple(sorted(set(ids))) for a, ids in media.items()}
    else:
        known = firsts.group_by("account_id").agg(pl.col("media_offer_id").unique().sort())
        wanted = {r["account_id"]: tuple(r["media_offer_id"]) for r in known.iter_rows(named=True)}
    gone = firsts.filter(pl.col("first_gone").is_not_null())
    gone_from = {
        (a, m): day
        for a, m, day in gone.select(*_PAIR, "first_gone").iter_rows()
        if m in wanted.get(a, ())
    }
    fetched = history.first_fetched()
    starts = {
        a: day
        for a in wanted
        if (day := start if start is not None else fetched.get(a)) is not None
    }
    return Expectation(wanted, starts, gone_from)


def held_by_day(coverage: Coverage) -> dict[tuple[str, date], dict[str, str]]:
    """The fetch log's coverage regrouped as the rule reads it: (account, day) -> media offer
    -> fetched or gone."""
    held: dict[tuple[str, date], dict[str, str]] = defaultdict(dict)
    for (account, media, day), status in coverage.items():
        held[account, day][media] = status
    return held
