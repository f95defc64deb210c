"""The credit planner: which media offers of an account to fetch today, over which window.

A pure function of what the lake says of each media offer (:class:`MediaState`), the run's
day and the credits the day may spend. Four tiers, served in this order:

- *fresh*: posted in the last ``fresh_days`` days, or among the first ``top_rank`` of one of
  the account's top lists of the last ``top_days`` days: fetched through the run's day every
  day, ``lookback_days`` again for late stats;
- *launch*: a post's first ``launch_hours`` hours, hourly, in one request once they are over;
- *tail*: every other media offer fetched before, due once its newest fetched day is
  ``tail_days`` old (the longest-waiting first), each fetch covering everything since;
- *history*: what a media offer lacks before its first fetched day, back to its creation day
  (never before ``first_day``), newest first, as the budget allows.

Every window is half-open ``[after, before)`` in UTC epoch ms and at most ``max_buckets``
buckets a request. What is due follows from the run's day, never the wall clock, so a
backfill or a test replays it exactly. What does not fit the day's credits is deferred and
counted; nothing is bought twice without a stated reason (the lookback for late stats).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from datetime import date, timedelta

from airflow_provider_fansly.client.windows import (
    DAY_MS,
    HOUR_MS,
    day_bounds,
    day_of,
    request_count,
    split_window,
)
from airflow_provider_fansly.storage.expectation import (
    FRESH_DAYS,
    TAIL_DAYS,
    TOP_DAYS,
    TOP_RANK,
    is_fresh,
)

__all__ = [
    "DEFAULT_TIERS",
    "TIERS",
    "Fetch",
    "MediaState",
    "Plan",
    "Tiers",
    "batches_of",
    "day_allowance",
    "plan_account",
]


def _start(day: date) -> int:
    """The start of a UTC day in epoch ms."""
    return day_bounds(day)[0]


TIERS = ("fresh", "launch", "tail", "history")


@dataclass(frozen=True)
class Tiers:
    """The planner's cadences, tier sizes and windows (the defaults are the issue's)."""

    fresh_days: int = FRESH_DAYS
    top_rank: int = TOP_RANK
    top_days: int = TOP_DAYS
    lookback_days: int = 3
    launch_hours: int = 72
    tail_days: int = TAIL_DAYS
    max_buckets: int = 99
    batch_size: int = 50


#: The defaults (the planner's documented cadences).
DEFAULT_TIERS = Tiers()


@dataclass(frozen=True)
class MediaState:
    """What the lake says of one media offer: when it was posted (``None``: unknown), the
    first and newest day of its daily history, whether its launch hours are in the lake,
    and its best rank in the account's recent top lists (``None``: in none)."""

    media_offer_id: str
    created_ms: int | None = None
    first_fetched: date | None = None
    last_fetched: date | None = None
    launch_fetched: bool = False
    top_rank: int | None = None


@dataclass(frozen=True)
class Fetch:
    """One media offer's window of one tier, and the requests it costs."""

    media_offer_id: str
    tier: str
    period: int
    after: int
    before: int

    @property
    def requests(self) -> int:
        """The requests this window takes (at most ``max_buckets`` buckets each)."""
        return request_count(self.after, self.before, self.period)


@dataclass
class Plan:
    """An account's day: what to fetch, what waits, and why."""

    day: date
    allowance: int | None
    fetches: list[Fetch] = field(default_factory=list)
    #: per tier: the requests the whole tier wanted, and those deferred
    needed: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    deferred: dict[str, int] = field(default_factory=lambda: dict.fromkeys(TIERS, 0))
    #: the fetches deferred, in their tiers' order
    waiting: list[Fetch] = field(default_factory=list)

    @property
    def requests(self) -> int:
        """The requests of everything planned."""
        return sum(f.requests for f in self.fetches)

    def behind(self, tier: str) -> int:
        """How many days the tier's most waiting deferred window reaches back (0: none)."""
        end = day_bounds(self.day)[1]
        return max(((end - f.after) // DAY_MS for f in self.waiting if f.tier == tier), default=0)

    def describe(self) -> str:
        """One line for the log: per tier what is planned, what waits and how far back."""
        parts = []
        for tier in TIERS:
            planned = sum(f.requests for f in self.fetches if f.tier == tier)
            waits = self.deferred[tier]
            late = f", {waits} deferred ({self.behind(tier)} days back)" if waits else ""
            parts.append(f"{tier} {planned}/{self.needed[tier]}{late}")
        budget = "no monthly budget" if self.allowance is None else f"{self.allowance} allowed"
        return f"{self.day}: {self.requests} request(s) planned ({budget}): " + "; ".join(parts)


def plan_account(
    day: date,
    media: Iterable[MediaState],
    tiers: Tiers = DEFAULT_TIERS,
    allowance: int | None = None,
    first_day: date | None = None,
) -> Plan:
    """Plan one account's fetches for the run's ``day`` (its data is fetched through it),
    spending at most ``allowance`` requests (``None``: no limit). Within a tier the best
    ranked and newest come first (fresh, history), the longest waiting first (launch, tail)."""
    end = _start(day) + DAY_MS
    wanted: dict[str, list[tuple[tuple[int, int], Fetch]]] = defaultdict(list)
    for state in media:
        for fetch in _due(state, day, end, tiers, first_day):
            wanted[fetch.tier].append((_rank(state, fetch.tier), fetch))
    plan = Plan(day, allowance)
    left = allowance
    for tier in TIERS:
        for _, fetch in sorted(wanted[tier], key=lambda item: item[0]):
            plan.needed[tier] += fetch.requests
            if left is None or fetch.requests <= left:
                plan.fetches.append(fetch)
                left = None if left is None else left - fetch.requests
            else:
                plan.deferred[tier] += fetch.requests
                plan.waiting.append(fetch)
    return plan


def _rank(state: MediaState, tier: str) -> tuple[int, int]:
    """Where a media offer stands within its tier (smaller first)."""
    created = state.created_ms or 0
    if tier == "fresh":
        return state.top_rank if state.top_rank is not None else 10**9, -created
    if tier == "history":
        return -created, 0
    waited = state.last_fetched.toordinal() if state.last_fetched is not None else 0
    return (waited, 0) if tier == "tail" else (created, 0)


def _due(
    state: MediaState, day: date, end: int, tiers: Tiers, first_day: date | None
) -> list[Fetch]:
    """The fetches a media offer is due on ``day``: its fresh window, launch hours, tail
    window or, never fetched, its history before what the fresh window covers."""
    created = day_of(state.created_ms) if state.created_ms is not None else None
    start = max(created, first_day) if created and first_day else created or first_day
    fresh = is_fresh(day, created, state.top_rank, tiers.fresh_days, tiers.top_rank)
    found: list[Fetch] = []
    covered_from = end
    if fresh:
        since = _fresh_since(state, day, start, tiers)
        covered_from = _start(since)
        found.append(Fetch(state.media_offer_id, "fresh", DAY_MS, covered_from, end))
    launch = _launch(state, day, end, tiers)
    if launch is not None:
        found.append(launch)
    last = state.last_fetched
    if last is not None and not fresh and (day - last).days >= tiers.tail_days:
        found += _windows(state, "tail", _start(last + timedelta(days=1)), end, tiers)
    found += _history(state, day, start, covered_from, tiers)
    return found


def _history(
    state: MediaState, day: date, start: date | None, covered_from: int, tiers: Tiers
) -> list[Fetch]:
    """What lies between a media offer's start and its first fetched day (or the fresh
    window), newest first. With no start known (no creation time, no ``first_day``) a
    never-fetched one gets one request's worth; its answer says when it was posted, and the
    next days go on from there."""
    end = covered_from if state.first_fetched is None else _start(state.first_fetched)
    end = min(end, covered_from)
    if start is None:
        if state.first_fetched is not None:
            return []
        start = day - timedelta(days=tiers.max_buckets - 1)
    if _start(start) >= end:
        return []
    return list(reversed(_windows(state, "history", _start(start), end, tiers)))


def _fresh_since(state: MediaState, day: date, start: date | None, tiers: Tiers) -> date:
    """The first day of a fresh media offer's window: the day after its newest fetched one,
    at most ``lookback_days`` before the run's day, never before it was posted, and within
    one request; what lies before a never-fetched one's window is its history."""
    recent = day - timedelta(days=tiers.lookback_days)
    since = recent
    if state.last_fetched is not None:
        since = min(recent, state.last_fetched + timedelta(days=1))
    elif start is not None:
        since = start
    floor = day - timedelta(days=tiers.max_buckets - 1)
    return max(since, floor, start or floor)


def _launch(state: MediaState, day: date, end: int, tiers: Tiers) -> Fetch | None:
    """A new post's first hours, hourly, once they are over (one request: at most 99 hours);
    a post older than ``tail_days`` when first planned has none (its launch is long past)."""
    if state.created_ms is None or state.launch_fetched:
        return None
    if (day - day_of(state.created_ms)).days >= tiers.tail_days:
        return None
    after = state.created_ms // HOUR_MS * HOUR_MS
    before = after + tiers.launch_hours * HOUR_MS
    return Fetch(state.media_offer_id, "launch", HOUR_MS, after, before) if before <= end else None


def _windows(state: MediaState, tier: str, after: int, before: int, tiers: Tiers) -> list[Fetch]:
    """``[after, before)`` of daily buckets in requests of at most ``max_buckets``."""
    return [
        Fetch(state.media_offer_id, tier, DAY_MS, lo, hi)
        for lo, hi in split_window(after, before, DAY_MS, tiers.max_buckets)
    ]


def day_allowance(monthly_credits: int | None, spent: int, day: date) -> int | None:
    """The requests ``day`` may spend: what the month has left spread over its days left
    (this one included), so the last week is not left with nothing; on the month's last day,
    all of it (credits do not roll over). ``None`` without a monthly budget."""
    if monthly_credits is None:
        return None
    left = max(0, monthly_credits - spent)
    following = date(day.year + day.month // 12, day.month % 12 + 1, 1)
    return left // (following - day).days


def batches_of(fetches: Iterable[Fetch], size: int = 50) -> list[dict[str, object]]:
    """The plan as mapped tasks: media offers sharing a tier and a window, at most ``size``
    a batch (so an agency's day stays far under Airflow's ``max_map_length``)."""
    groups: dict[tuple[str, int, int, int], list[str]] = defaultdict(list)
    for f in fetches:
        groups[f.tier, f.period, f.after, f.before].append(f.media_offer_id)
    found: list[dict[str, object]] = []
    for (tier, period, after, before), ids in groups.items():
        for i in range(0, len(ids), size):
            found.append(
                {
                    "media_offer_ids": sorted(ids[i : i + size]),
                    "period": period,
                    "after_date": after,
                    "before_date": before,
                    "tier": tier,
                }
            )
    return found
