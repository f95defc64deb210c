"""The checks of the rows themselves: one row per key, the row rules, hourly buckets against
the daily ones (this API's semantics), and restatements of published numbers."""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import date
from typing import TYPE_CHECKING, Any, ClassVar

import polars as pl

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.quality.check import SAMPLE_ROWS, Check, Inputs, capped
from airflow_provider_fansly.quality.findings import Finding, Severity
from airflow_provider_fansly.storage.columns import ROWS_SCHEMA

if TYPE_CHECKING:
    from airflow_provider_fansly.quality.lake import LakeView

__all__ = ["HourlyVsDaily", "Invariants", "Restatement", "Uniqueness"]


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
        return capped(
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
        return capped(
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

    return rows_schema(0, 4_102_444_800_000, period, one_row_per_key=False)  # until 2100


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
        return capped(found) or [self._compared(both.height, joined.height - both.height)]

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
        return capped(
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
