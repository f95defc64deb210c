"""The checks of what the lake holds over time: completeness against the expected media
offers, freshness of each account, and day volumes against their recent history."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass
from datetime import date, timedelta
from typing import ClassVar

import numpy as np
import polars as pl

from airflow_provider_fansly.quality.check import Check, Inputs, capped, days_between
from airflow_provider_fansly.quality.findings import Finding, Severity, problem
from airflow_provider_fansly.storage.layout import GONE

__all__ = ["Completeness", "Freshness", "VolumeAnomaly", "whole_days"]


@dataclass(frozen=True)
class Completeness(Check):
    """Every expected (account, media offer, day) fetched (a quiet day counts). A gap is a
    warning while it is at most ``max_gap_days`` old (its run may still be going), an error
    after; gone media offers are reported apart, as warnings."""

    id: ClassVar[str] = "completeness"
    max_gap_days: int = 3

    def run(self, inputs: Inputs) -> list[Finding]:
        view, rule, held = inputs.view, inputs.rule, inputs.held
        asked_gone, found = _asked_gone(inputs), []
        for account, ids in sorted(inputs.expected.items()):
            found += [self._gone(account, m) for m in sorted(asked_gone[account] & set(ids))]
            start = rule.start(account) or view.as_of
            for day in days_between(max(start, view.first), view.last):
                missing = rule.judge(account, day, held.get((account, day), {})).missing
                if missing:
                    found.append(self._gap(account, day, list(missing), view.as_of))
        return capped(found)

    def _gone(self, account: str, media_offer_id: str) -> Finding:
        return Finding(
            self.id,
            "warned",
            "warn",
            "answered gone (deleted or not found); its history is kept",
            account_id=account,
            media_offer_id=media_offer_id,
            advice="take it out of the media offer list",
        )

    def _gap(self, account: str, day: date, missing: list[str], as_of: date) -> Finding:
        age = (as_of - day).days
        severity: Severity = self.severity if age > self.max_gap_days else "warn"
        one = missing[0] if len(missing) == 1 else None
        return Finding(
            self.id,
            problem(severity),
            severity,
            f"{len(missing)} media offer(s) never fetched for this day, {age} day(s) ago",
            account_id=account,
            media_offer_id=one,
            day=day,
            observed=float(age),
            threshold=float(self.max_gap_days),
            sample=[{"media_offer_id": m} for m in missing[:50]],
            advice=f"backfill {day} for these media offers (docs/backfilling.md)",
        )


@dataclass(frozen=True)
class Freshness(Check):
    """The newest day fetched per account (in all history, so that a long outage stays
    visible) is at most ``max_lag_days`` before the last day; of a planned account, each
    media offer is also judged against its tier (fresh: ``max_lag_days``; tail: the tail's
    wait on top)."""

    id: ClassVar[str] = "freshness"
    max_lag_days: int = 2

    def run(self, inputs: Inputs) -> list[Finding]:
        view = inputs.view
        newest = view.history.last_fetched()
        found = []
        for account in sorted(inputs.expected):
            last = newest.get(account)
            lag = (view.last - last).days if last else (view.last - view.first).days + 1
            if lag > self.max_lag_days:
                seen = f"the newest day fetched is {last}" if last else "nothing fetched"
                found.append(
                    self.finding(
                        f"{seen}: {lag} day(s) behind {view.last}",
                        account_id=account,
                        observed=float(lag),
                        threshold=float(self.max_lag_days),
                        advice="check that the account's DAG runs and succeeds",
                    )
                )
        tail_days = inputs.cadence.tail_days
        if tail_days is not None:
            for account in sorted(set(inputs.expected) & inputs.cadence.accounts):
                found += self._tiers(inputs, account, tail_days)
        return found

    def _tiers(self, inputs: Inputs, account: str, tail_days: int) -> list[Finding]:
        """A planned account's media offers behind their tier: a fresh one more than
        ``max_lag_days``, another more than its tail's ``tail_days`` on top."""
        view, fresh = inputs.view, inputs.cadence.fresh
        wanted = set(inputs.rule.media.get(account, ()))
        mine = view.history.firsts.filter(
            (pl.col("account_id") == account) & pl.col("first_gone").is_null()
        )
        behind: dict[str, list[tuple[int, str]]] = {"fresh": [], "tail": []}
        for media, last in mine.select("media_offer_id", "last_fetched").iter_rows():
            if media not in wanted or last is None:
                continue
            tier = "fresh" if (account, media) in fresh else "tail"
            allowed = self.max_lag_days + (0 if tier == "fresh" else tail_days)
            if (view.last - last).days > allowed:
                behind[tier].append(((view.last - last).days, media))
        return [
            self._behind(account, tier, sorted(late, reverse=True), self.max_lag_days + extra)
            for tier, extra in (("fresh", 0), ("tail", tail_days))
            if (late := behind[tier])
        ]

    def _behind(
        self, account: str, tier: str, late: list[tuple[int, str]], allowed: int
    ) -> Finding:
        return self.finding(
            f"{len(late)} {tier} media offer(s) more than {allowed} day(s) behind, the most "
            f"{late[0][0]} day(s)",
            account_id=account,
            observed=float(late[0][0]),
            threshold=float(allowed),
            sample=[{"media_offer_id": m, "days_behind": lag} for lag, m in late[:50]],
            advice="check the planned DAG's runs and the month's credits: a budget below the "
            "tier's need defers it (the plan task's log says so)",
        )


@dataclass(frozen=True)
class VolumeAnomaly(Check):
    """Per account and day, views and rows against a robust trailing baseline: the median and
    MAD of the ``history_days`` before (the same weekday's when at least ``weekday_points``
    of them exist). Flags spikes and drops whose robust z-score passes ``max_z``, and a day
    of zero views after ``active_days`` days that all had views, however noisy they were.
    Judges the last ``recent_days`` days."""

    id: ClassVar[str] = "volume_anomaly"
    severity: Severity = "warn"
    max_z: float = 6.0
    recent_days: int = 7
    min_points: int = 7
    weekday_points: int = 4
    active_days: int = 14

    def run(self, inputs: Inputs) -> list[Finding]:
        view = inputs.view
        totals = (
            view.stats(["account_id", "dt", "views"])
            .group_by(["account_id", "dt"])
            .agg(pl.col("views").sum(), pl.len().alias("rows"))
        )
        series: dict[str, dict[date, tuple[float, float]]] = defaultdict(dict)
        whole = whole_days(inputs)
        for account, day in whole:  # fetched but quiet: zeros
            series[account][day] = (0.0, 0.0)
        for r in totals.to_dicts():
            if (r["account_id"], r["dt"]) in whole:
                series[r["account_id"]][r["dt"]] = (float(r["views"]), float(r["rows"]))
        found = []
        for account, by_day in sorted(series.items()):
            for day in sorted(d for d in by_day if (view.as_of - d).days <= self.recent_days):
                finding = self._judge(account, day, by_day)
                if finding is not None:
                    found.append(finding)
        return capped(found)

    def _dark(self, day: date, by_day: dict[date, tuple[float, float]]) -> bool:
        """No views this day after ``active_days`` days in a row that all had some."""
        before = [day - timedelta(days=i) for i in range(1, self.active_days + 1)]
        active = all(d in by_day and by_day[d][0] > 0 for d in before)
        return by_day[day][0] == 0 and active

    def _judge(
        self, account: str, day: date, by_day: dict[date, tuple[float, float]]
    ) -> Finding | None:
        history = [d for d in by_day if d < day]
        same = [d for d in history if d.weekday() == day.weekday()]
        points = same if len(same) >= self.weekday_points else history
        if len(points) < self.min_points and points is history:
            return None
        scores = []
        for i, metric in enumerate(("views", "rows")):
            values = np.array([by_day[d][i] for d in points])
            median = float(np.median(values))
            spread = max(1.4826 * float(np.median(np.abs(values - median))), 0.05 * median, 1.0)
            z = (by_day[day][i] - median) / spread
            scores.append((metric, by_day[day][i], median, z))
        metric, value, median, z = max(scores, key=lambda s: abs(s[3]))
        if abs(z) <= self.max_z and not self._dark(day, by_day):
            return None
        if self._dark(day, by_day):
            metric, value, median, z = scores[0]
        kind = "drop" if z < 0 else "spike"
        basis = "same weekday" if points is same else f"{len(points)} day(s)"
        return self.finding(
            f"{kind}: {metric} {value:g} against a median of {median:g} ({basis}), z = {z:.1f}",
            account_id=account,
            day=day,
            observed=round(z, 2),
            threshold=self.max_z,
            sample=[
                {"metric": m, "value": v, "median": md, "z": round(zz, 2)}
                for m, v, md, zz in scores
            ],
            advice="compare with the API; refetch the day if the API now answers differently",
        )


def whole_days(inputs: Inputs) -> set[tuple[str, date]]:
    """(account, day) the rule judges with nothing missing, from each account's start: a
    partly fetched day is the completeness check's to report, not a drop in volume."""
    rule, held = inputs.rule, inputs.held
    return {
        (account, day)
        for account, day in held
        if rule.start(account) is not None
        and not rule.judge(account, day, held[account, day]).missing
    }


def _asked_gone(inputs: Inputs) -> dict[str, set[str]]:
    """Per account, the media offers that answered gone in the days (still asked for)."""
    gone: dict[str, set[str]] = defaultdict(set)
    for (account, media, _), status in inputs.view.coverage.items():
        if status == GONE:
            gone[account].add(media)
    return gone
