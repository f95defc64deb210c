"""What every quality check is: a frozen dataclass with an id, a severity and thresholds, and
the inputs one run gives them all (see :mod:`.checks` for the checks themselves)."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta
from functools import cached_property
from typing import TYPE_CHECKING, Any, ClassVar

from airflow_provider_fansly.quality.findings import Finding, Severity, problem
from airflow_provider_fansly.storage.discovery import cadence_of
from airflow_provider_fansly.storage.expectation import (
    Cadence,
    Expectation,
    expectation,
    held_by_day,
)

if TYPE_CHECKING:
    from airflow_provider_fansly.quality.lake import LakeView

__all__ = ["MAX_FINDINGS", "SAMPLE_ROWS", "Check", "Inputs", "capped", "days_between"]

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

    @cached_property
    def rule(self) -> Expectation:
        """What each day expects, by the rule the page's calendar follows too."""
        view = self.view
        return expectation(view.history, self.expected, self.start, self.cadence, view.last)

    @cached_property
    def cadence(self) -> Cadence:
        """The accounts the planner fetches in this lake, and their cadence."""
        return cadence_of(self.view.location, self.view.period, self.view.last)

    @cached_property
    def held(self) -> dict[tuple[str, date], dict[str, str]]:
        """What the fetch log holds of the days: (account, day) -> media offer -> status."""
        return held_by_day(self.view.coverage)


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


def days_between(first: date, last: date) -> list[date]:
    return [first + timedelta(days=i) for i in range((last - first).days + 1)]


def capped(findings: list[Finding]) -> list[Finding]:
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
