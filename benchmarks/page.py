"""Benchmark 8, the Fansly page: its first render for one year of 1,000 media offers.

Builds the lake of benchmark 7 (365 daily partitions, a fetch log of 365,000 rows), a year of
quality runs and a month of credit entries, then renders the page in a fresh process, as the
api-server does on its first request: cold (nothing cached), then again (cached by table
version). Baseline in the same run: :func:`coverage_gaps`, the provider's per-key answer to
"what is missing" over the same year. Goal: the first render in at most 2 s.

    python -m benchmarks.page [--tiny]
"""

from __future__ import annotations

import json
import os
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from benchmarks.common import child_json, finish_child, header, parse_args, report, verdict
from benchmarks.quality import END, build

TODAY = END  # the calendar ends at the lake's end, as it would the day after a run


def extras(lake: Path, media_count: int, days: int) -> None:
    """A quality run a day (seven checks) and this month's credit entries, a commit each kind."""
    import pyarrow as pa

    from airflow_provider_fansly.storage.delta import (
        CREDIT_LEDGER_TABLE,
        QUALITY_RESULTS_TABLE,
        append,
    )
    from airflow_provider_fansly.storage.location import Location

    location = Location.parse(str(lake))
    checks = ("completeness", "freshness", "volume_anomaly", "uniqueness", "invariants",
              "hourly_vs_daily", "restatement")  # fmt: skip
    results = [
        {"run_id": f"q{n}", "checked_at": _at(TODAY - timedelta(days=n)), "as_of": TODAY,
         "period_ms": 86_400_000, "check_id": check, "severity": "error", "status": "passed",
         "account_id": None, "media_offer_id": None, "dt": None, "observed": None,
         "threshold": None, "message": "no problem found", "sample": "[]"}
        for n in range(days) for check in checks
    ]  # fmt: skip
    append(
        location, QUALITY_RESULTS_TABLE, pa.Table.from_pylist(results, QUALITY_RESULTS_TABLE.schema)
    )
    month = datetime.now(timezone.utc)
    ledger = [
        {"entry_id": f"e{n}", "kind": kind, "month": month.strftime("%Y-%m"), "at": month,
         "account_id": "bench", "task": "media_stats", "run_id": f"r{n}", "try_number": 1,
         "requests": media_count // 20, "rate_limited": 0, "outcome": "success"}
        for n in range(20 * 30) for kind in ("reserved", "spent")
    ]  # fmt: skip
    append(location, CREDIT_LEDGER_TABLE, pa.Table.from_pylist(ledger, CREDIT_LEDGER_TABLE.schema))


def _at(day: date) -> datetime:
    return datetime(day.year, day.month, day.day, 6, tzinfo=timezone.utc)


def child(lake: str, media_count: int) -> None:
    """Render the page twice (or run the baseline) here; print the seconds of each."""
    os.environ["AIRFLOW_VAR_FANSLY_LAKES"] = json.dumps(
        {"bench": {"path": lake, "monthly_credits": 100_000}}
    )
    start = time.perf_counter()
    if media_count:  # the baseline: coverage gaps over the year
        from airflow_provider_fansly.coverage import coverage_gaps

        expected = {"bench": [f"q{i:04d}" for i in range(media_count)]}
        coverage_gaps(lake, expected, TODAY - timedelta(days=365), TODAY - timedelta(days=1))
        print(json.dumps({"seconds": time.perf_counter() - start}))
        return
    from airflow_provider_fansly.plugins.app import View, render_page

    imported = time.perf_counter()
    html = render_page(View(), today=TODAY)
    first = time.perf_counter()
    render_page(View(), today=TODAY)
    again = time.perf_counter()
    print(json.dumps({"imports": imported - start, "first": first - imported,
                      "again": again - first, "bytes": len(html)}))  # fmt: skip


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    media_count, days = (50, 60) if args.tiny else (1000, 365)
    header(f"the Fansly page: {media_count} media offers x {days} days, daily")
    with tempfile.TemporaryDirectory(prefix="fansly-bench-page-") as scratch:
        lake = Path(scratch) / "lake"
        build(lake, media_count, days)
        extras(lake, media_count, days)
        baseline = child_json("page", str(lake), str(media_count))
        page = child_json("page", str(lake), "0")
    report("baseline: coverage_gaps over the year", baseline["seconds"], "s")
    report("imports (once per api-server)", page["imports"], "s")
    report("first render (nothing cached)", page["first"], "s")
    report("second render (cached by table version)", page["again"], "s")
    report("page size", page["bytes"] / 1024, "KiB")
    verdict("first render / baseline", page["first"] / baseline["seconds"], "none", True)
    verdict("first render (s)", page["first"], "<= 2 s", page["first"] <= 2)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], int(sys.argv[3]))
        finish_child()
    else:
        main()
