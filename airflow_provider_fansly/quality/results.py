"""The ``quality_results`` Delta table: every finding of every run, appended."""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import date, datetime

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_fansly.quality.findings import Finding
from airflow_provider_fansly.quality.scope import Scope
from airflow_provider_fansly.storage.columns import QUALITY_RESULTS_SCHEMA
from airflow_provider_fansly.storage.delta import (
    QUALITY_RESULTS_TABLE,
    Commit,
    append,
    open_table,
)
from airflow_provider_fansly.storage.location import Location

__all__ = ["last_checked", "record", "run_findings"]


def record(
    location: Location,
    findings: Sequence[Finding],
    *,
    run_id: str,
    checked_at: datetime,
    as_of: date,
    period: int,
    scope: Scope,
) -> Commit:
    """Append one row per finding (a check that passed is one ``passed`` row), each with the
    ``media_stats`` version judged and the scope."""
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
            "table_version": scope.version,
            "scope": scope.mode,
        }
        for f in findings
    ]
    return append(
        location, QUALITY_RESULTS_TABLE, pa.Table.from_pylist(rows, QUALITY_RESULTS_SCHEMA)
    )


def last_checked(location: Location, period: int, check_ids: Sequence[str]) -> int | None:
    """The ``media_stats`` version the latest run of ``period`` judged, when that run passed
    every one of ``check_ids``; else ``None`` (a full pass: what failed is judged again until
    it is fixed, and a run that skipped a check vouches for nothing it did not read)."""
    table = open_table(location, QUALITY_RESULTS_TABLE)
    if table is None or "table_version" not in pa.schema(table.schema().to_arrow()).names:
        return None
    rows = table.to_pyarrow_dataset().to_table(
        columns=["run_id", "checked_at", "check_id", "status", "table_version"],
        filter=(pc.field("period_ms") == period) & pc.field("table_version").is_valid(),
    )
    if not rows.num_rows:
        return None
    latest = rows.filter(pc.equal(rows["checked_at"], pc.max(rows["checked_at"])))
    checks, statuses = latest["check_id"].to_pylist(), latest["status"].to_pylist()
    judged = [s for c, s in zip(checks, statuses, strict=True) if c in check_ids]
    if not set(check_ids) <= set(checks) or any(s != "passed" for s in judged):
        return None
    return int(latest["table_version"][0].as_py())


def run_findings(location: Location, run_id: str, period: int) -> list[Finding]:
    """The findings the latest try of one run recorded for ``period`` (a cleared task's
    earlier try recorded its own), as recorded (advice is not kept)."""
    table = open_table(location, QUALITY_RESULTS_TABLE)
    if table is None:
        return []
    rows = table.to_pyarrow_dataset().to_table(
        filter=(pc.field("run_id") == run_id) & (pc.field("period_ms") == period)
    )
    if rows.num_rows:
        rows = rows.filter(pc.equal(rows["checked_at"], pc.max(rows["checked_at"])))
    return [
        Finding(
            r["check_id"],
            r["status"],
            r["severity"],
            r["message"],
            account_id=r["account_id"],
            media_offer_id=r["media_offer_id"],
            day=r["dt"],
            observed=r["observed"],
            threshold=r["threshold"],
            sample=json.loads(r["sample"] or "[]"),
        )
        for r in rows.to_pylist()
    ]
