"""MediaStatsQualityOperator: check the lake, record every finding, fail on an error.

The in-run rules catch a bad answer; this catches a bad lake: gaps, stale accounts, a day of
zeros after weeks of activity, duplicates, broken invariants, hourly and daily numbers that
disagree, and re-fetches that moved published numbers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any, Literal

from airflow.sdk import BaseOperator

from airflow_provider_fansly.assets import QUALITY_RESULTS, table_asset
from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS, day_of, to_epoch_ms
from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.ingest.inputs import account_media
from airflow_provider_fansly.lineage.openlineage import QualityLineage, quality_lineage
from airflow_provider_fansly.storage.layout import MEDIA_STATS_DIR, QUALITY_RESULTS_DIR

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context

    from airflow_provider_fansly.quality.checks import Check
    from airflow_provider_fansly.quality.findings import Finding
    from airflow_provider_fansly.quality.lake import LakeView
    from airflow_provider_fansly.quality.scope import Scope
    from airflow_provider_fansly.storage.location import Location

__all__ = ["MediaStatsQualityOperator", "parse_expected"]


def parse_expected(value: str | Mapping[str, Sequence[str]] | None) -> dict[str, list[str]] | None:
    """``{account: [media offer ids]}`` from a mapping or its JSON; ids checked."""
    if value is None or value == "":
        return None
    try:
        return account_media(value, "expected")
    except ValueError as error:
        raise FanslyInputError(str(error)) from error


def _day(value: datetime | date | str, what: str) -> date:
    """A UTC day from a date, an aware datetime or ISO-8601 (parsed as windows are); a time of
    day rounds up, so the day it falls in is checked."""
    if isinstance(value, str) and len(value.strip()) == 10:
        try:
            return date.fromisoformat(value.strip())
        except ValueError:
            raise FanslyInputError(f"{what} must be ISO-8601, got {value!r}") from None
    if isinstance(value, date) and not isinstance(value, datetime):
        return value
    return _day_after(to_epoch_ms(value, what))


def _day_after(ms: int) -> date:
    """The first UTC midnight at or after ``ms``, as the day that ends there (exclusive)."""
    return day_of(-(-ms // DAY_MS) * DAY_MS)


def _written_until(
    context: Context | Mapping[str, Any], checked_uri: str, period: int
) -> date | None:
    """The end (exclusive day) of the windows of ``period`` that the triggering asset events
    of this run say they wrote to the checked table; ``None`` when none did."""
    events = context.get("triggering_asset_events") or {}
    ends = [
        event.extra["window"]["before"]
        for key in events
        for event in events[key]
        if event.asset.uri == checked_uri and _wrote(event.extra or {}, period)
    ]
    if not ends:
        return None
    return _day_after(max(ends))


def _wrote(extra: Mapping[str, Any], period: int) -> bool:
    """Whether an event's extra (a batch's or a run's) says it wrote data of ``period``."""
    periods = extra.get("periods_ms", [extra.get("period_ms")])
    return "window" in extra and period in periods


def _first_of_each(failed: list[Finding]) -> str:
    """The first failed finding of each check, with its scope: what to read first."""
    firsts = {f.check_id: f for f in reversed(failed)}
    return "; ".join(f"{c} [{f.scope()}]: {f.message}" for c, f in sorted(firsts.items()))


def _lineage(
    location: Any, results: str, findings: list[Finding], checks: list[Check], view: Any
) -> QualityLineage:
    """What OpenLineage will need, as plain data: one assertion per check (passed when all its
    findings did), and the metrics of the rows checked."""
    rows, metrics = view.metrics(["views", "unique_viewers", "interaction_time_ms"])
    return QualityLineage(
        table_uri=location.table_uri(MEDIA_STATS_DIR),
        results_uri=results,
        assertions=tuple(
            (c.id, all(f.status == "passed" for f in findings if f.check_id == c.id), c.severity)
            for c in checks
        ),
        rows=rows,
        columns=tuple(metrics),
    )


class MediaStatsQualityOperator(BaseOperator):
    """Run the quality checks over a lake and record what they found.

    :param output_path: the lake root (templated), as for MediaStatsOperator.
    :param expected: ``{account_id: [media offer ids]}`` or its JSON (templated); default:
        every media offer the fetch log ever held for the period, less those that answered
        gone before the days checked (all history: an outage longer than ``history_days``
        does not make an account drop out of what is expected).
    :param period: the period checked: 86,400,000 (daily) or 3,600,000 (hourly).
    :param checks: check ids (``"completeness"``, ``"freshness"``, ``"volume_anomaly"``,
        ``"uniqueness"``, ``"invariants"``, ``"hourly_vs_daily"``, ``"restatement"``) or
        configured instances from :mod:`airflow_provider_fansly.quality`; default all.
    :param as_of: the end of what is checked, exclusive (templated; an aware datetime, a date
        or ISO-8601); default: the end of the window the triggering asset events wrote to
        this lake, else the run's data interval end, else the start of the run's day (UTC).
    :param history_days: how many days before ``as_of`` the checks read (baselines included).
    :param start: the first day judged for gaps (templated); default each account's first
        fetched day, so a new deployment is not alarmed about history it never fetched.
    :param mode: ``"incremental"`` (default): uniqueness and invariants read only the
        partitions committed since the version the last passing run judged (all of them when
        there is none, or its log is gone); ``"audit"``: they read every partition, a bounded
        group at a time. Both record the version judged.

    Findings go to ``{output_path}/quality_results``, the log (failures first) and the XCom
    summary; the outlet alias QUALITY_RESULTS gets the results table's Asset with the counts.
    The task fails, after recording everything, when a check of severity ``error`` fails.
    """

    template_fields: Sequence[str] = ("output_path", "expected", "as_of", "start")
    ui_color = "#2e7d32"

    def __init__(
        self,
        *,
        output_path: str,
        expected: str | Mapping[str, Sequence[str]] | None = None,
        period: int = DAY_MS,
        checks: Sequence[str | Check] | None = None,
        as_of: datetime | date | str | None = None,
        history_days: int = 28,
        start: date | str | None = None,
        mode: Literal["incremental", "audit"] = "incremental",
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", [QUALITY_RESULTS])
        kwargs.setdefault("max_active_tis_per_dag", 1)
        super().__init__(**kwargs)
        if period not in (DAY_MS, HOUR_MS):
            raise ValueError(
                f"period must be {DAY_MS} (daily) or {HOUR_MS} (hourly), got {period!r}"
            )
        if not isinstance(history_days, int) or history_days < 1:
            raise ValueError(
                f"history_days must be a positive number of days, got {history_days!r}"
            )
        if mode not in ("incremental", "audit"):
            raise ValueError(f"mode must be 'incremental' or 'audit', got {mode!r}")
        self.mode = mode
        self.output_path = output_path
        self.expected = expected
        self.period = period
        self.checks = checks
        self.as_of = as_of
        self.history_days = history_days
        self.start = start
        self._lineage: QualityLineage | None = None

    def _as_of(self, context: Context | Mapping[str, Any], checked_uri: str) -> date | None:
        """The given ``as_of``; else, in a run triggered by asset events, the end of what they
        wrote to this lake for this period (a backfill's run is judged as of its own days),
        or ``None`` when they wrote none of it; else the run's data interval end; else, for a
        run at a point in time (a cron trigger, a manual run), the start of its day (UTC):
        the days before it are judged, today's is not due yet."""
        if self.as_of not in (None, ""):
            return _day(self.as_of, "as_of")
        if context.get("triggering_asset_events"):
            return _written_until(context, checked_uri, self.period)
        end = context.get("data_interval_end")
        if end is not None and end != context.get("data_interval_start"):
            return _day(end, "the data interval end")
        at = end or context.get("logical_date")
        return (
            day_of(to_epoch_ms(at, "the run's time")) if at else datetime.now(timezone.utc).date()
        )

    def execute(self, context: Context) -> dict[str, Any]:
        """Run the checks, record the findings, log the report; fail on an error finding."""
        from airflow.sdk.exceptions import AirflowFailException, AirflowSkipException

        from airflow_provider_fansly.hooks.lake import lake_location
        from airflow_provider_fansly.quality.checks import resolve_checks

        try:
            checks = resolve_checks(self.checks)
            expected = parse_expected(self.expected)
            location = lake_location(self.output_path)
            as_of = self._as_of(context, table_asset(location.table_uri(MEDIA_STATS_DIR)).uri)
            start = None if self.start in (None, "") else _day(self.start, "start")
        except (ValueError, FanslyInputError) as error:
            raise AirflowFailException(f"{error} [not retried: a bad argument]") from error
        if as_of is None:
            raise AirflowSkipException(
                f"the asset events that triggered this run wrote no data of period "
                f"{self.period} ms to {location}: nothing new to check"
            )
        view, findings = self._judge(context, location, checks, as_of, expected, start)
        summary = self._summary(findings, checks, view, as_of)
        summary["scope"] = _scope_summary(view.judged)
        results = location.table_uri(QUALITY_RESULTS_DIR)
        self._lineage = _lineage(location, results, findings, checks, view)
        context["outlet_events"][QUALITY_RESULTS].add(table_asset(results), extra=summary["counts"])
        failed = [f for f in findings if f.status == "failed"]
        if failed:
            raise AirflowFailException(
                f"{len(failed)} quality finding(s) failed: {_first_of_each(failed)}; "
                f"all are in {results} and the log above"
            )
        return summary

    def _judge(
        self,
        context: Context,
        location: Location,
        checks: list[Check],
        as_of: date,
        expected: dict[str, list[str]] | None,
        start: date | None,
    ) -> tuple[LakeView, list[Finding]]:
        """Run the checks as of ``as_of``, record their findings in the lake, log the report."""
        from airflow_provider_fansly.quality.checks import Inputs, run_checks
        from airflow_provider_fansly.quality.findings import report
        from airflow_provider_fansly.quality.lake import LakeView
        from airflow_provider_fansly.quality.results import record

        history = as_of - timedelta(days=self.history_days)
        view = LakeView(location, self.period, history, as_of, self._scope(location, checks))
        findings = run_checks(checks, Inputs(view, expected or view.expected(), start))
        run_id = str(context.get("run_id") or "manual")
        now = datetime.now(timezone.utc)
        scope = view.judged
        record(location, findings, run_id=run_id, checked_at=now, as_of=as_of,
               period=self.period, scope=scope)  # fmt: skip
        self.log.info(
            "Quality of %s up to %s (exclusive), the table-wide checks over %s:\n%s",
            location,
            as_of,
            scope.describe(),
            report(findings),
        )
        return view, findings

    def _scope(self, location: Location, checks: list[Check]) -> Scope | None:
        """What the table-wide checks read: the partitions changed since the last passing
        run's version (``incremental``), or all of them; ``None`` when there is no table."""
        from airflow_provider_fansly.quality.results import last_checked
        from airflow_provider_fansly.quality.scope import changed_since
        from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE, open_table

        table = open_table(location, MEDIA_STATS_TABLE)
        if table is None:
            return None
        whole = [c.id for c in checks if c.whole_table]
        since = None
        if self.mode == "incremental" and whole:
            since = last_checked(location, self.period, whole)
        return changed_since(location, table, since)

    def _summary(
        self, findings: list[Finding], checks: list[Check], view: Any, as_of: date
    ) -> dict[str, Any]:
        from airflow_provider_fansly.quality.checks import Restatement
        from airflow_provider_fansly.quality.findings import counts

        return {
            "as_of": str(as_of),
            "period_ms": self.period,
            "counts": counts(findings),
            "checks": {c.id: counts(f for f in findings if f.check_id == c.id) for c in checks},
            "restatement_by_age": Restatement.by_age(view),
        }

    def get_openlineage_facets_on_complete(self, task_instance: object) -> OperatorLineage:
        """The checked table with one assertion per check and its metrics; the results table."""
        return quality_lineage(self._lineage)


def _scope_summary(scope: Scope) -> dict[str, Any]:
    """What the table-wide checks judged, for the XCom summary."""
    return {
        "mode": scope.mode,
        "table_version": scope.version,
        "since": scope.since,
        "partitions": None if scope.partitions is None else len(scope.partitions),
    }
