"""Data-quality checks of the lake: what they found, the lake as they read it, the results."""

from __future__ import annotations

from airflow_provider_fansly.quality.checks import (
    CHECKS,
    Check,
    Completeness,
    Freshness,
    HourlyVsDaily,
    Inputs,
    Invariants,
    Restatement,
    Uniqueness,
    VolumeAnomaly,
    resolve_checks,
    run_checks,
)
from airflow_provider_fansly.quality.findings import Finding, counts, report

__all__ = [
    "CHECKS",
    "Check",
    "Completeness",
    "Finding",
    "Freshness",
    "HourlyVsDaily",
    "Inputs",
    "Invariants",
    "Restatement",
    "Uniqueness",
    "VolumeAnomaly",
    "counts",
    "report",
    "resolve_checks",
    "run_checks",
]
