"""An account's planned day, end to end: discover its media offers, read what the lake holds,
plan within the month's credits.

One ``profilestats`` request over the run's day (recorded in the lake and in the credit
ledger as the ``discovery`` tier) names the media offers that had traffic; the fetch log's
history says how far each media offer is fetched; :func:`..planner.plan_account` decides the
rest. Everything it reads is in the lake, so a rerun plans the same day the same way.
"""

from __future__ import annotations

import logging
import time
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

import polars as pl

from airflow_provider_fansly.client.engine import Log
from airflow_provider_fansly.client.fansly import FanslyClient
from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS, day_bounds
from airflow_provider_fansly.ingest.planner import (
    DEFAULT_TIERS,
    MediaState,
    Plan,
    Tiers,
    day_allowance,
)
from airflow_provider_fansly.ingest.planner import plan_account as plan_media
from airflow_provider_fansly.storage.discovery import read_discovered, record_discovery
from airflow_provider_fansly.storage.history import History, read_history
from airflow_provider_fansly.storage.ledger import month_spend, reserve, settle
from airflow_provider_fansly.storage.location import Location

__all__ = ["Planned", "plan_day"]

_log = logging.getLogger(__name__)


@dataclass(frozen=True)
class Planned:
    """One account's day: the discovery's cost and what it found, and the plan."""

    account_id: str
    discovered: int
    plan: Plan


def plan_day(
    client: FanslyClient,
    location: Location,
    account_id: str,
    listed: Sequence[str],
    day: date,
    *,
    task: str,
    run_id: str,
    tiers: Tiers = DEFAULT_TIERS,
    first_day: date | None = None,
    share: float = 1.0,
    log: Log = _log,
) -> Planned:
    """Discover the account's media offers of ``day`` and plan its fetches; ``listed``
    media offers (the ``fansly_accounts`` Variable) are planned whether discovered or not.
    The account may spend ``share`` of the day's part of the month's credits (the accounts of
    one plan split it: their fetches run after every plan is made)."""
    discovered = _discover(client, location, account_id, day, task, run_id, log)
    media = _states(location, account_id, listed, day, tiers)
    spent = month_spend(location)
    allowance = day_allowance(client.settings.monthly_credits, spent, _today())
    allowance = None if allowance is None else int(allowance * share)
    plan = plan_media(day, media, tiers, allowance, first_day)
    if allowance is not None and plan.deferred["fresh"]:
        log.warning(
            "The day's share of the monthly budget (%d request(s) of %d left this month) does "
            "not cover the fresh tier of %s (%d needed): the best ranked are served first",
            allowance,
            (client.settings.monthly_credits or 0) - spent,
            account_id,
            plan.needed["fresh"],
        )
    log.info("Planned %s: %s", account_id, plan.describe())
    return Planned(account_id, discovered, plan)


def _discover(
    client: FanslyClient,
    location: Location,
    account_id: str,
    day: date,
    task: str,
    run_id: str,
    log: Log,
) -> int:
    """Ask the account's statistics of ``day`` once and record them; a retry (or a rerun)
    that finds the day's top lists in the lake reuses them instead of buying them again.
    Return how many media offers the answer named."""
    known = read_discovered(location, account_id, day, day).ranks
    if known:
        log.info("Reusing %s's discovery of %s from the lake: not bought again", account_id, day)
        return len(known)
    after, before = day_bounds(day)
    reservation = reserve(
        location,
        account_id=account_id,
        task=task,
        run_id=run_id,
        try_number=1,
        estimate=1,
        monthly_credits=client.settings.monthly_credits,
        tier="discovery",
    )
    sent = client.counters.requests
    outcome = "failed"
    try:
        stats = client.get_profile_stats(account_id, after=after, before=before, period=DAY_MS)
        record_discovery(location, stats, int(time.time() * 1000))
        outcome = "success"
    finally:
        settle(location, reservation, client.counters.requests - sent, 0, outcome)
    return len(stats.listed())


def _states(
    location: Location, account_id: str, listed: Sequence[str], day: date, tiers: Tiers
) -> list[MediaState]:
    """What the lake says of each of the account's media offers: listed, discovered or
    fetched before; those that answered gone are left out (deleted posts)."""
    daily = _firsts(read_history(location, DAY_MS), account_id)
    hourly = _firsts(read_history(location, HOUR_MS), account_id)
    found = read_discovered(location, account_id, day - timedelta(days=tiers.top_days - 1), day)
    ids = set(listed) | found.media_offer_ids | set(daily)
    states = []
    for media in sorted(ids):
        first, last, gone = daily.get(media, (None, None, None))
        if gone is not None:
            continue
        states.append(
            MediaState(
                media,
                created_ms=found.created_ms.get(media),
                first_fetched=first,
                last_fetched=last,
                launch_fetched=hourly.get(media, (None,))[0] is not None,
                top_rank=found.ranks.get(media),
            )
        )
    return states


def _firsts(history: History, account_id: str) -> dict[str, tuple[date, date, date | None]]:
    """Per media offer of the account: its first and newest fetched day and first gone day."""
    mine = history.firsts.filter(pl.col("account_id") == account_id)
    return {
        r["media_offer_id"]: (r["first_fetched"], r["last_fetched"], r["first_gone"])
        for r in mine.iter_rows(named=True)
    }


def _today() -> date:
    """The wall clock's UTC day: what the month has left is real spending, not the run's."""
    return datetime.now(timezone.utc).date()
