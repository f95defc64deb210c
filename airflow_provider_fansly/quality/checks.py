"""The quality checks: the generic ones (completeness, freshness, volume, uniqueness,
invariants) and the ones only this API's semantics allow (hourly against daily, restatement).

Each check is a frozen dataclass: its ``id``, a ``severity`` (``warn`` or ``error``) and its
thresholds are its fields, so ``Freshness(max_lag_days=1, severity="warn")`` configures one.
``run`` returns the findings: one per problem with its scope, or one ``passed`` finding. The
checks live in :mod:`.timeliness` and :mod:`.consistency`; this module lists and runs them.
"""

from __future__ import annotations

from collections.abc import Sequence

from airflow_provider_fansly.quality.check import Check, Inputs
from airflow_provider_fansly.quality.consistency import (
    HourlyVsDaily,
    Invariants,
    Restatement,
    Uniqueness,
)
from airflow_provider_fansly.quality.findings import Finding
from airflow_provider_fansly.quality.timeliness import Completeness, Freshness, VolumeAnomaly

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
