"""The ``quality_results`` Delta table: every finding of every run, appended."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime

import pyarrow as pa

from airflow_provider_fansly.quality.findings import Finding
from airflow_provider_fansly.storage.columns import QUALITY_RESULTS_SCHEMA
from airflow_provider_fansly.storage.delta import QUALITY_RESULTS_TABLE, Commit, append
from airflow_provider_fansly.storage.location import Location

__all__ = ["record"]


def record(
    location: Location,
    findings: Sequence[Finding],
    *,
    run_id: str,
    checked_at: datetime,
    as_of: date,
    period: int,
) -> Commit:
    """Append one row per finding (a check that passed is one ``passed`` row)."""
    rows = [
        {
            "run_id": run_id,
            "checked_at": checked_at,
            "as_of": as_of,
            "period_ms": period,
            "check_id": f.check_id,
            "severity": f.severity,
            "status": f.status,
            "account_id": f.account_id,
            "media_offer_id": f.media_offer_id,
            "dt": f.day,
            "observed": f.observed,
            "threshold": f.threshold,
            "message": f.message,
            "sample": f.sample_json(),
        }
        for f in findings
    ]
    return append(
        location, QUALITY_RESULTS_TABLE, pa.Table.from_pylist(rows, QUALITY_RESULTS_SCHEMA)
    )
