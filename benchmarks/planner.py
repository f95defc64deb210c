"""Benchmark 10, a simulated planned month: credits the planner spends against the daily DAG.

Catalogue accounts of the emulator (their media offers posted before the first day, new posts
every day, a few posts carrying most views, views fading with age), each starting with its
history complete. For every day, per account: the discovery answer the emulator serves
(``profilestats`` of the day, its own code), then the planner's real ``plan_account`` over
what the lake would say, and every planned window taken as fetched. Two cases:

(a) a creator with 700 media offers and 3 new posts a day;
(b) an agency of 20 accounts, 10,000 media offers and 60 new posts a day.

Printed: credits per 30 days of the planner (discovery included) and of the daily DAG (one
request per media offer a day, computed); the planner against its floor (one discovery a day,
one request per fresh media offer a day, one per launch, one per other media offer every 28
days); the worst staleness of the fresh and tail tiers; the new posts never found. No HTTP:
the fetches themselves are what benchmarks 1 to 9 measure, and the suite's planned-DAG test
checks their rows against the emulator.

    python -m benchmarks.planner [--tiny]
"""

from __future__ import annotations

from dataclasses import dataclass, field, replace
from datetime import date, timedelta

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS, day_bounds, day_of
from airflow_provider_fansly.ingest.planner import (
    DEFAULT_TIERS,
    MediaState,
    Plan,
    day_allowance,
    plan_account,
)
from airflow_provider_fansly.testing.catalogue import START_MS, Catalogue
from airflow_provider_fansly.testing.emulator.answers import profile_dataset
from benchmarks.common import header, parse_args, report, timed, verdict

FIRST_DAY = day_of(START_MS)


@dataclass
class Account:
    """One catalogue account as the lake would know it, day after day."""

    catalogue: Catalogue
    media: dict[str, MediaState] = field(default_factory=dict)
    ranks: list[dict[str, int]] = field(default_factory=list)  # per day, newest last

    def start(self) -> None:
        """History complete through the day before the first: every old post fetched."""
        last = FIRST_DAY - timedelta(days=1)
        for media in self.catalogue.media_offer_ids(START_MS):
            created = self.catalogue.created_ms(int(media[1:]))
            self.media[media] = MediaState(media, created, day_of(created), last, True)

    def discover(self, day: date) -> int:
        """The day's top lists, as the emulator answers ``profilestats``; new ones are known."""
        after = day_bounds(day)[0]
        data = profile_dataset(self.catalogue.account, after, after + DAY_MS, DAY_MS)["dataset"]
        ranks: dict[str, int] = {}
        for rows in (data["topMediaOffers"], data["topFypMediaOffers"]):
            for rank, row in enumerate(rows, start=1):
                ranks[row["mediaOfferId"]] = min(rank, ranks.get(row["mediaOfferId"], rank))
        self.ranks = [*self.ranks[-(DEFAULT_TIERS.top_days - 1) :], ranks]
        for media in ranks:
            if media not in self.media:
                created = self.catalogue.created_ms(int(media[1:]))
                self.media[media] = MediaState(media, created)
        return 1

    def states(self) -> list[MediaState]:
        best: dict[str, int] = {}
        for day_ranks in self.ranks:
            for media, rank in day_ranks.items():
                best[media] = min(rank, best.get(media, rank))
        return [replace(s, top_rank=best.get(m)) for m, s in self.media.items()]

    def fetched(self, plan: Plan) -> None:
        """Take every planned window as fetched."""
        for f in plan.fetches:
            s = self.media[f.media_offer_id]
            if f.period == HOUR_MS:
                self.media[f.media_offer_id] = replace(s, launch_fetched=True)
                continue
            first, last = day_of(f.after), day_of(f.before - 1)
            self.media[f.media_offer_id] = replace(
                s,
                first_fetched=min(first, s.first_fetched or first),
                last_fetched=max(last, s.last_fetched or last),
            )


@dataclass
class Month:
    """What a simulated span cost and how stale it left things."""

    days: int
    planner: int = 0
    daily_dag: int = 0
    floor: int = 0
    fresh_lag: int = 0
    tail_lag: int = 0
    unfound: int = 0
    #: per calendar month, what was spent; days whose media requests were none
    spent: dict[str, int] = field(default_factory=dict)
    idle_days: int = 0
    deferred: dict[str, int] = field(default_factory=dict)
    #: what each tier spent (discovery included)
    by_tier: dict[str, int] = field(default_factory=dict)


def simulate(accounts: list[Account], days: int, budget: int | None = None) -> Month:
    """Run the planner ``days`` days; with ``budget``, a monthly plan the accounts share as
    the planned DAG shares it (each a part of the day's share, fetched after all plan)."""
    month = Month(days)
    for account in accounts:
        account.start()
    for n in range(days):
        day = FIRST_DAY + timedelta(days=n)
        key = f"{day:%Y-%m}"
        fetched_today = 0
        plans = []
        for account in accounts:
            month.planner += account.discover(day)
            month.spent[key] = month.spent.get(key, 0) + 1
            month.by_tier["discovery"] = month.by_tier.get("discovery", 0) + 1
            allowance = day_allowance(budget, month.spent[key], day)
            share = None if allowance is None else int(allowance / len(accounts))
            plans.append((account, plan_account(day, account.states(), allowance=share)))
        for account, plan in plans:
            month.planner += plan.requests
            month.spent[key] += plan.requests
            fetched_today += plan.requests
            for tier, waits in plan.deferred.items():
                month.deferred[tier] = month.deferred.get(tier, 0) + waits
            for f in plan.fetches:
                month.by_tier[f.tier] = month.by_tier.get(f.tier, 0) + f.requests
            account.fetched(plan)
            _judge(month, account, day, plan)
        month.idle_days += fetched_today == 0
    for account in accounts:
        posted = account.catalogue.media_offer_ids(day_bounds(FIRST_DAY + timedelta(days))[0])
        month.unfound += len(set(posted) - set(account.media))
    return month


def _judge(month: Month, account: Account, day: date, plan: Plan) -> None:
    """The day's floor, the daily DAG's cost, and the staleness after the day's fetches."""
    end = day_bounds(day)[1]
    posted = account.catalogue.media_offer_ids(end)
    month.daily_dag += len(posted)
    fresh = {f.media_offer_id for f in (*plan.fetches, *plan.waiting) if f.tier == "fresh"}
    launches = sum(1 for f in plan.fetches if f.tier == "launch")
    others = len(account.media) - len(fresh)
    month.floor += 1 + len(fresh) + launches + others / DEFAULT_TIERS.tail_days
    for media, state in account.media.items():
        lag = (day - state.last_fetched).days if state.last_fetched else 0
        if media in fresh:
            month.fresh_lag = max(month.fresh_lag, lag)
        else:
            month.tail_lag = max(month.tail_lag, lag)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    header("Benchmark 10: a simulated planned month (credits)")
    days = 12 if args.tiny else 60
    cases = (
        [("creator", ["catalogue-60-1"]), ("agency", [f"catalogue-{40 + i}-1" for i in range(3)])]
        if args.tiny
        else [
            ("creator", ["catalogue-700-3"]),
            ("agency", [f"catalogue-{480 + 2 * i}-3" for i in range(20)]),
        ]
    )
    for name, ids in cases:
        accounts = [Account(Catalogue.of(a)) for a in ids]  # type: ignore[arg-type]
        month, seconds = timed(lambda accounts=accounts: simulate(accounts, days))
        per30 = 30 / days
        print(f"-- ({name}) {len(ids)} account(s), {days} days simulated in {seconds:.1f} s")
        report("planner credits per 30 days", month.planner * per30, "credits")
        for tier, spent in sorted(month.by_tier.items(), key=lambda kv: -kv[1]):
            report(f"  of which {tier}", spent * per30, "credits")
        report("daily DAG credits per 30 days", month.daily_dag * per30, "credits")
        report("planner floor per 30 days", month.floor * per30, "credits")
        verdict("planner / daily DAG", month.planner / month.daily_dag, "<= 0.15",
                month.planner <= 0.15 * month.daily_dag)  # fmt: skip
        verdict("planner / floor", month.planner / month.floor, "<= 1.1",
                month.planner <= 1.1 * month.floor)  # fmt: skip
        if name == "agency":
            pro = month.planner * per30 / 60_000
            verdict("agency credits per 30 days / Pro (60,000)", pro, "<= 1", pro <= 1)
        report("worst fresh staleness", month.fresh_lag, "days")
        report("worst tail staleness", month.tail_lag, "days")
        report("new posts never found", month.unfound, "posts")
        if name == "creator":
            _budgets(ids, days, month.planner * 30 // days)


def _budgets(ids: list[str], days: int, needed: int) -> None:
    """The creator again under a monthly budget below the fresh tier's need, and one between
    it and the whole plan: the spend stays within it, no day is left with nothing."""
    for budget in (needed // 3, needed * 3 // 4):
        accounts = [Account(Catalogue.of(a)) for a in ids]  # type: ignore[arg-type]
        month = simulate(accounts, days, budget)
        most = max(month.spent.values())
        print(f"-- (creator, monthly budget {budget:,}) requests deferred, summed over the "
              "days: " + ", ".join(f"{t} {w:,}" for t, w in month.deferred.items()))  # fmt: skip
        verdict("most spent in a month / budget", most / budget, "<= 1", most <= budget)
        report("days with no media request", month.idle_days, "days")
        report("worst fresh staleness", month.fresh_lag, "days")


if __name__ == "__main__":
    main()
