"""What this lake's tasks spent, and what a backfill will cost: to run before
``airflow backfill create``.

The numbers come from the lake's credit ledger (every try, failed ones included), so a key
shared by several lakes needs its ``monthly_credits`` split between them.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone

from airflow_provider_fansly.client.windows import DAY_MS, request_count, to_epoch_ms
from airflow_provider_fansly.hooks.lake import lake_location
from airflow_provider_fansly.storage.ledger import month_spend

__all__ = ["BackfillCost", "backfill_cost", "credits_spent"]


@dataclass(frozen=True)
class BackfillCost:
    """The requests a backfill needs, and how they compare with this month's budget."""

    runs: int
    requests: int
    spent_this_month: int
    monthly_credits: int | None

    @property
    def left(self) -> int | None:
        """Credits left this month before the backfill, or ``None`` without a budget."""
        if self.monthly_credits is None:
            return None
        return max(0, self.monthly_credits - self.spent_this_month)

    def describe(self) -> str:
        """One paragraph for the shell."""
        text = (
            f"{self.runs} run(s) need {self.requests} request(s) (credits); this lake spent "
            f"{self.spent_this_month} this month"
        )
        if self.left is None:
            return text + " (no monthly_credits given)."
        verdict = "fits" if self.requests <= self.left else "does NOT fit"
        return f"{text}, {self.left} of {self.monthly_credits} left: the backfill {verdict}."


def backfill_cost(
    output_path: str,
    *,
    start: date | str,
    end: date | str,
    media_offers: int,
    period: int = DAY_MS,
    run_days: int = 1,
    monthly_credits: int | None = None,
) -> BackfillCost:
    """Cost a backfill of ``[start, end)`` in runs of ``run_days`` days (the daily DAG: 1),
    each fetching ``media_offers`` media offers, against this month's ledger."""
    first, last = (
        to_epoch_ms(datetime.fromisoformat(str(d)).replace(tzinfo=timezone.utc))
        for d in (start, end)
    )
    if last <= first or media_offers < 1 or run_days < 1:
        raise ValueError(
            f"a backfill needs start before end, at least one media offer and one day per "
            f"run; got [{start}, {end}), {media_offers} media offer(s), {run_days} day(s)"
        )
    step = int(timedelta(days=run_days).total_seconds() * 1000)
    windows = [(a, min(a + step, last)) for a in range(first, last, step)]
    per_media = sum(request_count(a, b, period) for a, b in windows)
    return BackfillCost(
        len(windows), media_offers * per_media, credits_spent(output_path), monthly_credits
    )


def credits_spent(output_path: str, month: str | None = None) -> int:
    """Requests the tasks of the lake at ``output_path`` spent in a UTC month (``YYYY-MM``,
    default this month), failed tries included, plus what running tries reserved."""
    return month_spend(lake_location(output_path), month)
