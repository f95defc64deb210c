"""Benchmark 7, quality checks: every default check over one year of 1,000 media offers.

Builds a lake of 365 daily partitions (about 730,000 rows, and a fetch log of 365,000), then
runs all seven checks as of its end (28 days of history) in a fresh process, which reports
its time and peak RSS. Baseline in the same run: a bare scan of the whole table's key
columns with a group-by, the least a table-wide uniqueness check must do.
Goals: at most 15 s and 1 GiB for the checks.

    python -m benchmarks.quality [--tiny]
"""

from __future__ import annotations

import json
import sys
import tempfile
import time
from datetime import date, datetime, timedelta, timezone
from datetime import time as clock
from pathlib import Path

from benchmarks.common import (
    child_json,
    finish_child,
    header,
    parse_args,
    peak_mib,
    report,
    verdict,
)

END = date(2026, 1, 1)  # exclusive


def build(lake: Path, media_count: int, days: int) -> int:
    """Write the lake: two stat types per media offer and day, every day fetched."""
    import pyarrow as pa

    from airflow_provider_fansly.storage.delta import FETCH_LOG_TABLE, MEDIA_STATS_TABLE, append
    from airflow_provider_fansly.storage.location import Location

    location, rows = Location.parse(str(lake)), 0
    ids = [f"q{i:04d}" for i in range(media_count)]
    for chunk in range(0, days, 30):
        stats, log = [], []
        for n in range(chunk, min(days, chunk + 30)):
            day = END - timedelta(days=n + 1)
            at = datetime.combine(day, clock(), timezone.utc)
            for i, media in enumerate(ids):
                for kind in (0, 1):
                    views = 50 + (i * 7 + n * 3 + kind) % 40
                    stats.append(_row(media, at, day, kind, views))
                log.append(_log(media, at, day))
        append(location, MEDIA_STATS_TABLE, pa.Table.from_pylist(stats, MEDIA_STATS_TABLE.schema))
        append(location, FETCH_LOG_TABLE, pa.Table.from_pylist(log, FETCH_LOG_TABLE.schema))
        rows += len(stats)
    return rows


def _row(media: str, at: datetime, day: date, kind: int, views: int) -> dict[str, object]:
    return {
        "account_id": "bench", "media_offer_id": media, "bucket_start": at, "stat_type": kind,
        "views": views, "preview_views": 10, "interaction_time_ms": views * 900,
        "preview_interaction_time_ms": 4000, "unique_viewers": views // 2,
        "preview_unique_viewers": 5, "fetched_at": at, "period_ms": 86_400_000, "dt": day,
    }  # fmt: skip


def _log(media: str, at: datetime, day: date) -> dict[str, object]:
    return {
        "account_id": "bench", "media_offer_id": media, "period_ms": 86_400_000, "dt": day,
        "window_start": at, "window_end": at + timedelta(days=1), "run_id": "bench",
        "try_number": 1, "requests": 1, "rows": 2, "fetched_at": at, "status": "fetched",
        "table_version": 0,
    }  # fmt: skip


def child(lake: str, what: str) -> None:
    """Run the checks (or the baseline scan) here; print seconds, peak MiB and findings."""
    start = time.perf_counter()
    if what == "checks":
        from airflow_provider_fansly.quality import Inputs, resolve_checks, run_checks
        from airflow_provider_fansly.quality.lake import LakeView
        from airflow_provider_fansly.storage.location import Location

        view = LakeView(Location.parse(lake), 86_400_000, END - timedelta(days=28), END)
        findings = run_checks(resolve_checks(None), Inputs(view, view.expected(), None))
        problems = sum(f.status != "passed" for f in findings)
    else:
        import polars as pl
        from deltalake import DeltaTable

        keys = ["account_id", "media_offer_id", "bucket_start", "stat_type", "period_ms"]
        table = DeltaTable(f"{lake}/media_stats").to_pyarrow_dataset().to_table(columns=keys)
        problems = (
            pl.DataFrame(pl.from_arrow(table)).group_by(keys).len().filter(pl.col("len") > 1).height
        )
    seconds = time.perf_counter() - start
    print(json.dumps({"seconds": seconds, "peak_mib": peak_mib(), "problems": problems}))


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    media_count, days = (50, 60) if args.tiny else (1000, 365)
    header(f"quality checks: {media_count} media offers x {days} days, daily")
    with tempfile.TemporaryDirectory(prefix="fansly-bench-quality-") as scratch:
        lake = Path(scratch) / "lake"
        rows = build(lake, media_count, days)
        report("rows in media_stats", rows, "rows")
        baseline = child_json("quality", str(lake), "baseline")
        checks = child_json("quality", str(lake), "checks")
    report("baseline: key scan + group-by", baseline["seconds"], "s")
    report("all seven checks", checks["seconds"], "s")
    report("checks: peak RSS", checks["peak_mib"], "MiB")
    report("checks: findings that are problems (0 expected)", checks["problems"], "")
    verdict("checks time / baseline time", checks["seconds"] / baseline["seconds"], "none", True)
    verdict("checks time (s)", checks["seconds"], "<= 15 s", checks["seconds"] <= 15)
    verdict("checks peak (MiB)", checks["peak_mib"], "<= 1024 MiB", checks["peak_mib"] <= 1024)


if __name__ == "__main__":
    if len(sys.argv) == 4 and sys.argv[1] == "--child":
        child(sys.argv[2], sys.argv[3])
        finish_child()
    else:
        main()
