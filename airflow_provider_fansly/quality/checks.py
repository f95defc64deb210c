"""The quality checks: the generic ones (completeness, freshness, volume, uniqueness,
invariants) and the ones only this API's semantics allow (hourly against daily, restatement).

Each check is a frozen dataclass: its ``id``, a ``severity`` (``warn`` or ``error``) and its
thresholds are its fields, so ``Freshness(max_lag_days=1, severity="warn")`` configures one.
``run`` returns the findings: one per problem with its scope, or one ``passed`` finding.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date, timedelta
from typing import TYPE_CHECKING, Any, ClassVar

import numpy as np
import polars as pl

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.quality.findings import Finding, Severity, problem
from airflow_provider_fansly.storage.columns import ROWS_SCHEMA
from airflow_provider_fansly.storage.layout import GONE

if TYPE_CHECKING:
    from airflow_provider_fansly.quality.lake import LakeView

__all__ = [
    "CHECKS",
    "Check",
    "Completeness",
    "Freshness",
    "HourlyVsDaily",
    "Inputs",
    "Invariants",
    "Restatement",
    "Uniqueness",
    "VolumeAnomaly",
    "resolve_checks",
    "run_checks",
]

#: At most this many findings per check and run; the rest are counted in the last one.
MAX_FINDINGS = 200
SAMPLE_ROWS = 5


@dataclass(frozen=True)
class Inputs:
    """What every check of one run gets: the lake view, the expected media offers, and the
    first day to judge (``None``: each account's first fetched day)."""

    view: LakeView
    expected: dict[str, list[str]]
    start: date | None


@dataclass(frozen=True)
class Check:
    """A check: an id, a severity, thresholds as fields, and :meth:`run`."""

    id: ClassVar[str] = ""
    #: whether it reads the table's partitions (its scope) rather than the history window
    whole_table: ClassVar[bool] = False
    severity: Severity = "error"

    def run(self, inputs: Inputs) -> list[Finding]:
        """Return the findings (problems only; the caller adds ``passed`` when there are none)."""
        raise NotImplementedError

    def finding(self, message: str, advice: str = "", **scope: Any) -> Finding:
        """A problem found by this check, at its severity."""
        status = problem(self.severity)
        return Finding(self.id, status, self.severity, message, advice=advice, **scope)


def _days(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def _capped(findings: list[Finding]) -> list[Finding]:
    if len(findings) <= MAX_FINDINGS:
        return findings
    rest = len(findings) - MAX_FINDINGS + 1
    last = findings[MAX_FINDINGS - 1]
    summary = Finding(
        last.check_id,
        last.status,
        last.severity,
        f"and {rest} more finding(s) like these",
        observed=float(rest),
    )
    return [*findings[: MAX_FINDINGS - 1], summary]


@dataclass(frozen=True)
class Completeness(Check):
    """Every expected (account, media offer, day) fetched (a quiet day counts). A gap is a
    warning while it is at most ``max_gap_days`` old (its run may still be going), an error
    after; gone media offers are reported apart, as warnings."""

    id: ClassVar[str] = "completeness"
    max_gap_days: int = 3

    def run(self, inputs: Inputs) -> list[Finding]:
        view, firsts = inputs.view, inputs.view.history.first_fetched()
        coverage, found = view.coverage, []
        for account, ids in sorted(inputs.expected.items()):
            start = inputs.start or firsts.get(account, view.as_of)
            days = _days(view.first, view.last)
            gone = sorted(
                m for m in ids if any(coverage.get((account, m, d)) == GONE for d in days)
            )
            found += [
                Finding(
                    self.id,
                    "warned",
                    "warn",
                    "answered gone (deleted or not found); its history is kept",
                    account_id=account,
                    media_offer_id=m,
                    advice="take it out of the media offer list",
                )
                for m in gone
            ]
            for day in _days(max(start, view.first), view.last):
                missing = [m for m in ids if m not in gone and (account, m, day) not in coverage]
                if missing:
                    found.append(self._gap(account, day, missing, view.as_of))
        return _capped(found)

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
    visible) is at most ``max_lag_days`` before the last day."""

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
        return found


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
        whole = _whole_days(inputs)
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
        return _capped(found)

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


def _whole_days(inputs: Inputs) -> set[tuple[str, date]]:
    """(account, day) where every expected media offer not gone was fetched: a partly fetched
    day is the completeness check's to report, not a drop in volume."""
    fetched: dict[tuple[str, date], set[str]] = defaultdict(set)
    gone: dict[str, set[str]] = defaultdict(set)
    for (account, media, day), status in inputs.view.coverage.items():
        (gone[account] if status == GONE else fetched[account, day]).add(media)
    return {
        (account, day)
        for (account, day), media in fetched.items()
        if set(inputs.expected.get(account, ())) - gone[account] <= media
    }


@dataclass(frozen=True)
class Uniqueness(Check):
    """No (account, media offer, bucket, stat type, period) twice in the table: in the
    partitions changed since the last run, or in every one (a full pass)."""

    id: ClassVar[str] = "uniqueness"
    whole_table: ClassVar[bool] = True
    KEY: ClassVar[Sequence[str]] = (
        "account_id",
        "media_offer_id",
        "bucket_start",
        "stat_type",
        "period_ms",
    )

    def run(self, inputs: Inputs) -> list[Finding]:
        found = [
            keys.group_by(list(self.KEY)).agg(pl.len().alias("copies")).filter(pl.col("copies") > 1)
            for keys in inputs.view.key_groups(self.KEY)
        ]
        twice = pl.concat(found) if found else pl.DataFrame()
        if not twice.height:
            return []
        twice = twice.with_columns(pl.col("bucket_start").dt.date().alias("dt"))
        groups = twice.group_by(["account_id", "media_offer_id", "dt"]).agg(
            (pl.col("copies") - 1).sum().alias("extra"),
            pl.struct(list(self.KEY)).head(SAMPLE_ROWS).alias("keys"),
        )
        return _capped(
            [
                self.finding(
                    f"{r['extra']} row(s) repeat a key already in the table",
                    account_id=r["account_id"],
                    media_offer_id=r["media_offer_id"],
                    day=r["dt"],
                    observed=float(r["extra"]),
                    threshold=0.0,
                    sample=r["keys"],
                    advice="run the day's task again: its commit replaces every row it owns",
                )
                for r in groups.sort(["account_id", "media_offer_id", "dt"]).to_dicts()
            ]
        )


@dataclass(frozen=True)
class Invariants(Check):
    """The in-run pandera rules over the table (the partitions changed since the last run, or
    all of them), in batches of ``batch_rows``: counts not negative, unique viewers within
    views, buckets on the period's UTC grid."""

    id: ClassVar[str] = "invariants"
    whole_table: ClassVar[bool] = True
    batch_rows: int = 400_000

    def run(self, inputs: Inputs) -> list[Finding]:
        from airflow_provider_fansly.storage.rules import rule_failures

        columns = [*ROWS_SCHEMA.names, "period_ms", "dt"]
        bad: dict[tuple[str, str, str, date], int] = defaultdict(int)
        samples: dict[tuple[str, str, str, date], list[dict[str, Any]]] = defaultdict(list)
        schemas: dict[int, Any] = {}
        for batch in inputs.view.stats_batches(columns, self.batch_rows):
            frame = pl.DataFrame(pl.from_arrow(batch))
            for (period,), part in frame.partition_by("period_ms", as_dict=True).items():
                schema = schemas.get(period) or schemas.setdefault(
                    period, _table_schema(int(period))
                )
                rows = part.select(ROWS_SCHEMA.names)
                for rule, index in rule_failures(rows, schema).items():
                    for row in part[index].to_dicts():
                        key = (rule, row["account_id"], row["media_offer_id"], row["dt"])
                        bad[key] += 1
                        if len(samples[key]) < SAMPLE_ROWS:
                            samples[key].append(row)
        return _capped(
            [
                self.finding(
                    f"{count} row(s) break the rule {rule}",
                    account_id=account,
                    media_offer_id=media,
                    day=day,
                    observed=float(count),
                    threshold=0.0,
                    sample=samples[rule, account, media, day],
                    advice="refetch the day; if the API answers the same, report it to the vendor",
                )
                for (rule, account, media, day), count in sorted(bad.items())
            ]
        )


def _table_schema(period: int) -> Any:
    """The in-run rules for one period over any window; uniqueness is its own check."""
    from airflow_provider_fansly.storage.rules import rows_schema

    schema = rows_schema(0, 4_102_444_800_000, period)  # any bucket until 2100
    schema.checks = [c for c in schema.checks if c.name != "one_row_per_key"]
    return schema


@dataclass(frozen=True)
class HourlyVsDaily(Check):
    """Where a day has both periods: hourly sums of the additive counts within ``tolerance``
    (relative) of the daily numbers, and hourly unique viewers summed never below daily.

    A media offer's day is compared only when the fetch log shows all 24 of its hours fetched:
    hours never fetched (an hourly backfill from noon) are completeness's business.
    """

    id: ClassVar[str] = "hourly_vs_daily"
    severity: Severity = "warn"
    tolerance: float = 0.01
    ADDITIVE: ClassVar[Sequence[str]] = ("views", "preview_views", "interaction_time_ms")

    def run(self, inputs: Inputs) -> list[Finding]:
        view = inputs.view
        columns = [*self.ADDITIVE, "unique_viewers"]
        keys = ["account_id", "media_offer_id", "dt"]
        hourly = view.day_sums(HOUR_MS, columns)
        daily = view.day_sums(DAY_MS, columns)
        joined = daily.join(hourly, on=keys, suffix="_hourly")
        both = joined.join(view.whole_days(HOUR_MS), on=keys, how="semi")
        found = []
        for r in both.sort(keys).to_dicts():
            worst = max(self.ADDITIVE, key=lambda c: _relative(r[f"{c}_hourly"], r[c]))
            off = _relative(r[f"{worst}_hourly"], r[worst])
            if off > self.tolerance:
                message = (
                    f"hourly {worst} sum to {r[worst + '_hourly']} over all 24 hours, daily "
                    f"says {r[worst]}"
                )
                found.append(self._finding(r, message, off))
            elif r["unique_viewers_hourly"] < r["unique_viewers"]:
                below = r["unique_viewers"] - r["unique_viewers_hourly"]
                message = (
                    f"hourly unique viewers sum to {r['unique_viewers_hourly']}, "
                    f"below the daily {r['unique_viewers']}"
                )
                found.append(self._finding(r, message, float(below), threshold=0.0))
        return _capped(found) or [self._compared(both.height, joined.height - both.height)]

    def _compared(self, compared: int, partial: int) -> Finding:
        """The pass, saying what was compared and what was left out."""
        message = (
            f"{compared} media offer day(s) with all 24 hours fetched agree with the daily "
            f"numbers; {partial} day(s) fetched hourly only in part were not compared"
        )
        return Finding(self.id, "passed", self.severity, message, observed=float(compared))

    def _finding(
        self, r: dict[str, Any], message: str, observed: float, threshold: float | None = None
    ) -> Finding:
        return self.finding(
            message,
            account_id=r["account_id"],
            media_offer_id=r["media_offer_id"],
            day=r["dt"],
            observed=round(observed, 4),
            threshold=self.tolerance if threshold is None else threshold,
            sample=[r],
            advice="refetch both periods for the day; late stats reach one before the other",
        )


def _relative(value: float, reference: float) -> float:
    return abs(value - reference) / max(abs(reference), 1)


@dataclass(frozen=True)
class Restatement(Check):
    """How much later re-fetches moved a media offer's published day (views), per day of
    age; a day moved by more than ``max_change`` (relative) is a finding. Read from what each commit
    recorded, so vacuum does not erase it."""

    id: ClassVar[str] = "restatement"
    severity: Severity = "warn"
    max_change: float = 0.1

    def run(self, inputs: Inputs) -> list[Finding]:
        moved = self.changes(inputs.view)
        if not moved.height:
            return []
        worst = moved.filter(pl.col("change") > self.max_change)
        return _capped(
            [
                self.finding(
                    f"a re-fetch {r['age']} day(s) later moved views "
                    f"from {r['old_views']} to {r['new_views']}",
                    account_id=r["account_id"],
                    media_offer_id=r["media_offer_id"],
                    day=r["dt"],
                    observed=round(r["change"], 4),
                    threshold=self.max_change,
                    sample=[{"run_id": r["run_id"], "age_days": r["age"]}],
                    advice="late stats move this much: keep lookback at least this many days",
                )
                for r in worst.sort(["account_id", "media_offer_id", "dt", "age"]).to_dicts()
            ]
        )

    @staticmethod
    def changes(view: LakeView) -> pl.DataFrame:
        """Each recorded restatement with its age in days and its relative change of views."""
        moved = view.restatements()
        if not moved.height:
            return moved
        return moved.with_columns(
            (pl.col("fetched_at").dt.date() - pl.col("dt")).dt.total_days().alias("age"),
            (
                (pl.col("new_views") - pl.col("old_views")).abs()
                / pl.max_horizontal(pl.col("old_views"), 1)
            ).alias("change"),
        )

    @classmethod
    def by_age(cls, view: LakeView) -> list[dict[str, Any]]:
        """Per day of age: how many restatements, their mean and largest relative change."""
        moved = cls.changes(view)
        if not moved.height:
            return []
        grouped = moved.group_by("age").agg(
            pl.len().alias("days"),
            pl.col("change").mean().alias("mean"),
            pl.col("change").max().alias("max"),
        )
        return grouped.sort("age").to_dicts()


#: Every check, in the order the report lists them; ``checks=None`` runs them all.
CHECKS: tuple[type[Check], ...] = (
    Completeness,
    Freshness,
    VolumeAnomaly,
    Uniqueness,
    Invariants,
    HourlyVsDaily,
    Restatement,
)


def run_checks(checks: Sequence[Check], inputs: Inputs) -> list[Finding]:
    """Every check's findings, in order; a check that found nothing gives one ``passed``."""
    findings: list[Finding] = []
    for check in checks:
        found = check.run(inputs)
        findings += found or [Finding(check.id, "passed", check.severity, "no problem found")]
    return findings


def resolve_checks(checks: Sequence[str | Check] | None) -> list[Check]:
    """Checks by id or as configured instances; all of them by default."""
    if checks is None:
        return [kind() for kind in CHECKS]
    by_id = {kind.id: kind for kind in CHECKS}
    resolved = []
    for check in checks:
        if isinstance(check, Check):
            resolved.append(check)
        elif check in by_id:
            resolved.append(by_id[check]())
        else:
            raise ValueError(f"unknown quality check {check!r}: choose from {', '.join(by_id)}")
    return resolved
