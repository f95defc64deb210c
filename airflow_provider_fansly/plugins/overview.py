"""What the page shows beside the calendar: the top tags, the quality runs, the credits, the
tables.

Each reads one small table of the lake (``fyp_tags`` for the days on screen,
``quality_results``, ``credit_ledger``) or a Delta log, never ``media_stats``' data files.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta, timezone
from typing import Any

import polars as pl
import pyarrow.compute as pc

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.storage.delta import (
    FYP_TAGS_TABLE,
    QUALITY_RESULTS_TABLE,
    TABLES,
    open_table,
)
from airflow_provider_fansly.storage.discovery import cadence_of
from airflow_provider_fansly.storage.history import read_history
from airflow_provider_fansly.storage.ledger import spent_by_day, spent_by_tier
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.replace import rows_added

__all__ = ["Credits", "credits", "plan_status", "quality", "tables", "top_tags"]

_WORST = {"passed": 0, "warned": 1, "failed": 2}
_MAINTENANCE = {"OPTIMIZE": "compacted", "VACUUM END": "vacuumed"}


def top_tags(
    location: Location, period: int, first: date, last: date, most: int = 5
) -> list[dict[str, Any]]:
    """Per account, the ``most`` tags that brought the most For-You-page views in the answers
    whose windows start from ``first`` to ``last`` (the latest answer of each window)."""
    table = open_table(location, FYP_TAGS_TABLE)
    if table is None:
        return []
    days = (pc.field("period_ms") == period) & (pc.field("dt") >= first) & (pc.field("dt") <= last)
    window = ["account_id", "media_offer_id", "window_start", "window_end", "tag_id"]
    columns = [*window, "tag_name", "views", "fetched_at"]
    found = pl.DataFrame(pl.from_arrow(table.to_pyarrow_dataset().to_table(columns, filter=days)))
    ranked = (
        found.sort("fetched_at")
        .unique(window, keep="last")
        .group_by("account_id", "tag_id")
        .agg(
            pl.col("tag_name").last(),
            pl.col("views").sum(),
            pl.col("media_offer_id").n_unique().alias("media_offers"),
        )
        .sort(["account_id", "views", "tag_id"], descending=[False, True, False])
    )
    return [
        {"account_id": account, "tags": group.drop("account_id").head(most).to_dicts()}
        for (account,), group in ranked.group_by("account_id", maintain_order=True)
    ]


def quality(location: Location, runs: int = 10) -> list[dict[str, Any]]:
    """Per period: its latest run's checks (status, observed against threshold) and the
    statuses of each check over its last ``runs`` runs, oldest first."""
    table = open_table(location, QUALITY_RESULTS_TABLE)
    if table is None:
        return []
    columns = ["run_id", "checked_at", "period_ms", "check_id", "severity", "status",
               "observed", "threshold", "message"]  # fmt: skip
    found = pl.DataFrame(pl.from_arrow(table.to_pyarrow_table(columns=columns)))
    found = found.with_columns(rank=pl.col("status").replace_strict(_WORST, return_dtype=pl.Int8))
    return [
        _period_quality(found.filter(pl.col("period_ms") == period), period, runs)
        for period in sorted(found["period_ms"].unique().to_list())
    ]


def _period_quality(found: pl.DataFrame, period: int, runs: int) -> dict[str, Any]:
    """One period's latest run and history."""
    ordered = found.group_by("run_id").agg(pl.col("checked_at").max()).sort("checked_at")
    recent = ordered.tail(runs)
    latest = recent.row(-1, named=True)
    worst = (
        found.filter(pl.col("run_id") == latest["run_id"])
        .sort("rank", "observed", descending=True, nulls_last=True)
        .group_by("check_id", maintain_order=True)
        .agg(
            pl.col("status").first(),
            pl.col("severity").first(),
            pl.col("observed").first(),
            pl.col("threshold").first(),
            pl.col("message").first(),
            (pl.col("rank") > 0).sum().alias("findings"),
        )
        .sort("check_id")
    )
    history = (
        found.join(recent.select("run_id"), on="run_id", how="semi")
        .group_by("run_id", "check_id")
        .agg(pl.col("rank").max())
        .join(recent, on="run_id")
        .sort("checked_at")
    )
    names = {v: k for k, v in _WORST.items()}
    return {
        "period_ms": period,
        "run_id": latest["run_id"],
        "checked_at": latest["checked_at"].isoformat(),
        "checks": worst.to_dicts(),
        "history": {
            check: [names[r] for r in group["rank"].to_list()]
            for (check,), group in history.group_by("check_id", maintain_order=True)
        },
        "runs": recent["checked_at"].dt.to_string("%Y-%m-%d %H:%M").to_list(),
    }


@dataclass(frozen=True)
class Credits:
    """What a month spent, per day, against the monthly budget (``None``: no budget set)."""

    month: str
    per_day: dict[date, int]
    budget: int | None
    #: per planner tier (``unplanned``: tasks the planner did not plan)
    by_tier: dict[str, int]
    #: the day the projection is made on (UTC)
    today: date

    @property
    def spent(self) -> int:
        """The month's total."""
        return sum(self.per_day.values())

    @property
    def projection(self) -> int:
        """The month's spend at its end at this month's pace so far (a past month: its
        total)."""
        first = date.fromisoformat(f"{self.month}-01")
        following = date(first.year + first.month // 12, first.month % 12 + 1, 1)
        if not first <= self.today < following:
            return self.spent
        elapsed = (self.today - first).days + 1
        return round(self.spent * (following - first).days / elapsed)

    def as_dict(self) -> dict[str, Any]:
        """The JSON the endpoint answers."""
        left = None if self.budget is None else max(0, self.budget - self.spent)
        return {
            "month": self.month,
            "spent": self.spent,
            "budget": self.budget,
            "left": left,
            "projection": self.projection,
            "by_tier": self.by_tier,
            "per_day": {d.isoformat(): n for d, n in self.per_day.items()},
        }


def credits(
    location: Location, month: str, budget: int | None, today: date | None = None
) -> Credits:
    """The credits the lake's tasks spent in a UTC month (``YYYY-MM``), per day and tier, and
    the month's projection as of ``today`` (default: today, UTC)."""
    today = today or datetime.now(timezone.utc).date()
    per_day, by_tier = spent_by_day(location, month), spent_by_tier(location, month)
    return Credits(month, per_day, budget, by_tier, today)


def tables(location: Location, commits: int = 5) -> list[dict[str, Any]]:
    """Per table: its version, its newest commits and when maintenance last touched it."""
    described = []
    for spec in TABLES:
        table = open_table(location, spec)
        if table is None:
            continue
        history = table.history(200)
        described.append(
            {
                "table": spec.name,
                "version": table.version(),
                "commits": [_commit(entry) for entry in history[:commits]],
                "maintenance": _maintenance(history),
            }
        )
    return described


def _when(entry: dict[str, Any]) -> str:
    return datetime.fromtimestamp(entry["timestamp"] / 1000, tz=timezone.utc).isoformat()


def _commit(entry: dict[str, Any]) -> dict[str, Any]:
    """One commit: version, time, operation, rows added, and the run and account behind it."""
    return {
        "version": entry.get("version"),
        "at": _when(entry),
        "operation": entry.get("operation"),
        "rows": rows_added(entry),
        "run_id": entry.get("fansly.run_id"),
        "account_id": entry.get("fansly.account_id"),
    }


def _maintenance(history: list[dict[str, Any]]) -> dict[str, str]:
    """The newest time each maintenance operation ran, among the commits read."""
    done: dict[str, str] = {}
    for entry in history:
        name = _MAINTENANCE.get(entry.get("operation", ""))
        if name and name not in done:
            done[name] = _when(entry)
    return done


def plan_status(location: Location, today: date) -> list[dict[str, Any]]:
    """Per planned account: each tier's size, how many days its most waiting media offer is
    behind, and when the tail's next media offer falls due (days judged through yesterday)."""
    yesterday = today - timedelta(days=1)
    cadence = cadence_of(location, DAY_MS, yesterday)
    if not cadence.accounts or cadence.tail_days is None:
        return []
    firsts = read_history(location, DAY_MS).firsts.filter(
        pl.col("first_gone").is_null() & pl.col("last_fetched").is_not_null()
    )
    found = []
    for account in sorted(cadence.accounts):
        tiers: dict[str, list[date]] = {"fresh": [], "tail": []}
        mine = firsts.filter(pl.col("account_id") == account)
        for media, last in mine.select("media_offer_id", "last_fetched").iter_rows():
            tiers["fresh" if (account, media) in cadence.fresh else "tail"].append(last)
        status: dict[str, dict[str, Any]] = {
            tier: {
                "media_offers": len(days),
                "behind_days": max(((yesterday - d).days for d in days), default=0),
            }
            for tier, days in tiers.items()
        }
        due = [d + timedelta(days=cadence.tail_days) for d in tiers["tail"]]
        status["tail"]["next_due"] = min(due).isoformat() if due else None
        found.append({"account_id": account, "tiers": status})
    return found
