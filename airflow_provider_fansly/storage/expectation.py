"""The one rule for an account's media offer on a day: expected, and then held or a gap.

The quality checks, the page's calendar and :func:`..coverage.coverage_gaps` all judge by it:

- an account's days are judged from its *start*: the first day given, else the first day any
  of its media offers was fetched (an account never fetched has no start, nothing to judge);
- its media offers are the list given for it, else every one its fetch log knows (of a
  planned account, the list and what its fetch log knows: the plan finds media offers);
- a media offer is *expected* on a day from the start until the first day it answered gone
  (deleted or not found), that day included: later "gone" answers are not news, later days
  do not expect it;
- an expected media offer is *held* on a day when the fetch log says it was fetched whole
  that day, or answered gone; else the day is a *gap* for it;
- of an account the planner fetches (a :class:`Cadence`), a media offer outside the fresh
  tier (:func:`is_fresh`) is not due on the days after its newest fetched day while that day
  is less than ``tail_days`` old (its tail fetch will cover them); hourly, never (only a
  post's launch hours are fetched hourly); and none is expected before its first fetched day
  (the plan found it then: a new post, a discovered one, a history not bought yet).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import date

import polars as pl

from airflow_provider_fansly.storage.fetch_log import Coverage
from airflow_provider_fansly.storage.history import History
from airflow_provider_fansly.storage.layout import GONE

__all__ = [
    "FRESH_DAYS",
    "TAIL_DAYS",
    "TOP_DAYS",
    "TOP_RANK",
    "Cadence",
    "DayJudgement",
    "Expectation",
    "expectation",
    "held_by_day",
    "is_fresh",
]

_PAIR = ["account_id", "media_offer_id"]
#: How long a planned media offer outside the fresh tier waits between fetches (days).
TAIL_DAYS = 28
#: A media offer is fresh (fetched every day) when posted in the last ``FRESH_DAYS`` days or
#: among the first ``TOP_RANK`` of one of the account's top lists of the last ``TOP_DAYS``.
FRESH_DAYS, TOP_RANK, TOP_DAYS = 7, 20, 3


def is_fresh(
    day: date,
    posted: date | None,
    rank: int | None,
    fresh_days: int = FRESH_DAYS,
    top_rank: int = TOP_RANK,
) -> bool:
    """Whether a planned media offer is fetched every day as of ``day``."""
    new = posted is not None and (day - posted).days < fresh_days
    return new or (rank is not None and rank <= top_rank)


@dataclass(frozen=True)
class DayJudgement:
    """An account's day: its expected media offers not held (``missing``), and those that
    answered gone that day for the first time."""

    missing: tuple[str, ...]
    gone: tuple[str, ...]


@dataclass(frozen=True)
class Cadence:
    """The accounts the planner fetches, and how long a media offer of theirs waits between
    fetches (``None``: once fetched, never due again, as a post's launch hours)."""

    accounts: frozenset[str]
    tail_days: int | None = TAIL_DAYS
    #: (account, media offer) fetched every day as of the day judged: never left waiting
    fresh: frozenset[tuple[str, str]] = frozenset()


@dataclass(frozen=True)
class Expectation:
    """Per account its media offers and start, each media offer's first gone day, and the
    newest fetched day of those whose next fetch is not due yet."""

    media: Mapping[str, tuple[str, ...]]
    starts: Mapping[str, date]
    gone_from: Mapping[tuple[str, str], date]
    waiting: Mapping[tuple[str, str], date] = field(default_factory=dict)
    #: a planned media offer's first fetched day: the plan found it then (a new post, a
    #: discovered one), so the days before are not the fetch log's to hold
    joined: Mapping[tuple[str, str], date] = field(default_factory=dict)

    def start(self, account_id: str) -> date | None:
        """The first day judged for the account; ``None``: nothing is."""
        return self.starts.get(account_id)

    def expects(self, account_id: str, media_offer_id: str, day: date) -> bool:
        """Whether the day expects this media offer of the account."""
        start = self.starts.get(account_id)
        gone = self.gone_from.get((account_id, media_offer_id))
        waits = self.waiting.get((account_id, media_offer_id))
        joined = self.joined.get((account_id, media_offer_id))
        return (
            start is not None
            and max(start, joined or start) <= day
            and (gone is None or day <= gone)
            and (waits is None or day <= waits)
        )

    def first_days(self, account_id: str) -> dict[str, date]:
        """The account's planned media offers expected only from their first fetched day."""
        ids = self.media.get(account_id, ())
        return {m: self.joined[account_id, m] for m in ids if (account_id, m) in self.joined}

    def expected_on(self, account_id: str, day: date) -> list[str]:
        """The account's media offers the day expects."""
        ids = self.media.get(account_id, ())
        return [m for m in ids if self.expects(account_id, m, day)]

    def judge(self, account_id: str, day: date, held: Mapping[str, str]) -> DayJudgement:
        """The day, from what the fetch log holds of it (media offer -> fetched or gone)."""
        ids = self.expected_on(account_id, day)
        missing = tuple(m for m in ids if m not in held)
        return DayJudgement(missing, tuple(m for m in ids if held.get(m) == GONE))

    def last_days(self, account_id: str) -> dict[str, date]:
        """The account's media offers expected only up to a day: the first one it answered
        gone, or the newest fetched one of a planned media offer not due yet."""
        ends: dict[str, date] = {}
        for media in self.media.get(account_id, ()):
            key = (account_id, media)
            days = [d for d in (self.gone_from.get(key), self.waiting.get(key)) if d is not None]
            if days:
                ends[media] = min(days)
        return ends


def expectation(
    history: History,
    media: Mapping[str, Sequence[str]] | None = None,
    start: date | None = None,
    cadence: Cadence | None = None,
    as_of: date | None = None,
) -> Expectation:
    """The rule for a period, from its whole :class:`History`; ``media`` (account -> media
    offers) and ``start`` replace what the history says when given; ``cadence`` says which
    accounts are planned, judged as of the day ``as_of``."""
    firsts = history.firsts
    grouped = firsts.group_by("account_id").agg(pl.col("media_offer_id").unique().sort())
    in_log = {r["account_id"]: r["media_offer_id"] for r in grouped.iter_rows(named=True)}
    if media:
        planned = cadence.accounts if cadence is not None else frozenset()
        # a planned account's media offers: those listed plus those its plan found
        wanted = {
            a: tuple(sorted({*ids, *(in_log.get(a, ()) if a in planned else ())}))
            for a, ids in media.items()
        }
    else:
        wanted = {a: tuple(ids) for a, ids in in_log.items()}
    known = {a: set(ids) for a, ids in wanted.items()}
    gone = firsts.filter(pl.col("first_gone").is_not_null())
    gone_from = {
        (a, m): day
        for a, m, day in gone.select(*_PAIR, "first_gone").iter_rows()
        if m in known.get(a, ())
    }
    fetched = history.first_fetched()
    starts = {
        a: day
        for a in wanted
        if (day := start if start is not None else fetched.get(a)) is not None
    }
    waiting = _waiting(history, known, cadence, as_of)
    return Expectation(wanted, starts, gone_from, waiting, _joined(history, known, cadence))


def _joined(
    history: History, wanted: Mapping[str, set[str]], cadence: Cadence | None
) -> dict[tuple[str, str], date]:
    """Each planned media offer's first fetched day."""
    if cadence is None or not cadence.accounts:
        return {}
    planned = history.firsts.filter(
        pl.col("account_id").is_in(list(cadence.accounts)) & pl.col("first_fetched").is_not_null()
    )
    return {
        (account, media): first
        for account, media, first in planned.select(*_PAIR, "first_fetched").iter_rows()
        if media in wanted.get(account, ())
    }


def _waiting(
    history: History,
    wanted: Mapping[str, set[str]],
    cadence: Cadence | None,
    as_of: date | None,
) -> dict[tuple[str, str], date]:
    """Planned media offers whose next fetch is not due by ``as_of``: their newest day."""
    if cadence is None or not cadence.accounts or as_of is None:
        return {}
    planned = history.firsts.filter(
        pl.col("account_id").is_in(list(cadence.accounts)) & pl.col("last_fetched").is_not_null()
    )
    found = {}
    for account, media, last in planned.select(*_PAIR, "last_fetched").iter_rows():
        due = cadence.tail_days is not None and (as_of - last).days >= cadence.tail_days
        fresh = (account, media) in cadence.fresh
        if not due and not fresh and media in wanted.get(account, ()):
            found[account, media] = last
    return found


def held_by_day(coverage: Coverage) -> dict[tuple[str, date], dict[str, str]]:
    """The fetch log's coverage regrouped as the rule reads it: (account, day) -> media offer
    -> fetched or gone."""
    held: dict[tuple[str, date], dict[str, str]] = defaultdict(dict)
    for (account, media, day), status in coverage.items():
        held[account, day][media] = status
    return held
