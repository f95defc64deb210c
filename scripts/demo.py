"""The main job, end to end on one machine: a real Airflow backfill against the emulator.

Starts the bundled emulator, an Airflow home (SQLite, LocalExecutor) with the connection and
Variables (no pool: the copied DAGs need none), the daily and quality DAGs unpaused as a new
deployment has them: the scheduler's own run fetches yesterday, a backfill loads the last N
days through the scheduler, and the quality DAG runs on each run's update. Then it reads the
Delta tables back with DuckDB, lists the table's versions (one commit per task), charts daily
views per media offer, and stops everything it started. Safe to re-run: each task replaces
its own rows, nothing is doubled.

    python scripts/demo.py [--days 14] [--workdir demo-output]
"""

from __future__ import annotations

import argparse
import json
import shutil
import sys
import tempfile
import time
from datetime import date, timedelta
from pathlib import Path
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from devtools.stack import AirflowStack

ROOT = Path(__file__).resolve().parents[1]
DAG_ID = "fansly_media_stats_daily"
QUALITY = "fansly_media_stats_quality"
MEDIA_OFFERS = [f"demo-media-{i}" for i in range(1, 6)]


def log(message: str) -> None:
    print(f"[demo {time.strftime('%H:%M:%S')}] {message}", flush=True)


def chart(totals_by_media: dict[str, dict[date, int]], target: Path) -> None:
    """Draw daily views per media offer to a PNG."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    fig, ax = plt.subplots(figsize=(10, 5))
    for media, series in sorted(totals_by_media.items()):
        days = sorted(series)
        ax.plot(days, [series[d] for d in days], marker="o", label=media)
    ax.set_title("Daily views per media offer (emulator data)")
    ax.set_ylabel("views")
    ax.legend()
    fig.autofmt_xdate()
    fig.savefig(target, dpi=100, bbox_inches="tight")
    plt.close(fig)


def summarize(lake: Path, first: date, last: date) -> None:
    """Print what landed, per day, and the coverage; write the chart."""
    import duckdb

    from airflow_provider_fansly.coverage import coverage_gaps, daily_totals, open_dataset
    from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT

    rows = [r for r in daily_totals(lake) if first <= r["dt"] <= last]
    print(f"\n{'day':<12}{'rows':>6}{'views':>9}{'unique viewers':>16}{'avg engagement (s)':>20}")
    for r in rows:
        print(
            f"{r['dt']!s:<12}{r['rows']:>6}{r['views']:>9}{r['unique_viewers']:>16}"
            f"{r['avg_engagement_s'] or 0:>20}"
        )
    gaps = coverage_gaps(lake, {DEFAULT_ACCOUNT: MEDIA_OFFERS}, first, last)
    print(
        f"\n{len(rows)} day(s) landed for {len(MEDIA_OFFERS)} media offers; "
        f"coverage gaps: {len(gaps)}"
    )
    with duckdb.connect() as con:
        con.register("stats", open_dataset(lake))
        per_media = con.sql(
            "select media_offer_id, dt, sum(views) from stats "
            "where period_ms = 86400000 group by all"
        ).fetchall()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    series = {media: dict.fromkeys(days, 0) for media in MEDIA_OFFERS}  # fetched and quiet: 0
    for media, day, views in per_media:
        if first <= day <= last:
            series[media][day] = views
    chart(series, lake.parent / "daily_views.png")


def run_airflow(stack: AirflowStack, first: date, last: date, days: int) -> None:
    """Prepare, backfill, start; wait for the backfill and the quality runs it triggers.

    The backfill reaches yesterday, so the scheduler makes no run of its own (an unpaused
    copy of the DAG with no history would fetch just yesterday)."""
    log(f"preparing an Airflow home in {stack.home} (SQLite, LocalExecutor)")
    stack.prepare(pools={})
    command = f"--dag-id {DAG_ID} --from-date {first} --to-date {last}"
    log(f"airflow backfill create {command}")
    stack.backfill(DAG_ID, first.isoformat(), last.isoformat())
    log("starting api-server, scheduler and dag-processor")
    stack.start()
    log(f"Airflow UI and API at {stack.url} while the demo runs")
    stack.wait_for_runs(
        DAG_ID,
        days,
        timeout=900,
        progress=lambda s: log(
            f"backfill: {s['success']}/{days} runs succeeded, "
            f"{s['running']} running, {s['queued']} queued"
        ),
    )
    quality = stack.settled_runs(QUALITY, "asset_triggered", settle=6)
    states = [r["state"] for r in quality]
    log(
        f"quality DAG: {states.count('success')}/{len(states)} run(s) succeeded, "
        "triggered once per producing run by the fansly_media_stats_updated alias"
    )


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--workdir", type=Path, default=ROOT / "demo-output")
    args = parser.parse_args()

    from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY
    from devtools.stack import AirflowStack, connection_env, emulator_process

    workdir = args.workdir.resolve()
    lake = workdir / "lake"
    lake.mkdir(parents=True, exist_ok=True)
    last = date.today() - timedelta(days=1)
    first = last - timedelta(days=args.days - 1)
    with tempfile.TemporaryDirectory(prefix="fansly-demo-airflow-") as scratch:
        home, dags = Path(scratch) / "home", Path(scratch) / "dags"
        dags.mkdir()
        for dag_id in (DAG_ID, QUALITY):
            (dags / f"{dag_id}.py").symlink_to(ROOT / "dags" / f"{dag_id}.py")
        log("starting the Fansly API emulator")
        with emulator_process("--rate-limit", "600") as url:
            env = {
                "AIRFLOW_CONN_FANSLY_DEFAULT": connection_env(
                    url, DEFAULT_KEY, requests_per_minute=600
                ),
                "AIRFLOW_VAR_FANSLY_ACCOUNT_ID": DEFAULT_ACCOUNT,
                "AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS": json.dumps(MEDIA_OFFERS),
                "AIRFLOW_VAR_FANSLY_OUTPUT_PATH": str(lake),
                "FANSLY_START_DATE": first.isoformat(),
            }
            with AirflowStack(home, dags, env) as stack:
                try:
                    run_airflow(stack, first, last, args.days)
                except (RuntimeError, TimeoutError):
                    shutil.copytree(home / "logs", workdir / "airflow-logs", dirs_exist_ok=True)
                    log(f"failed: Airflow's logs are kept in {workdir / 'airflow-logs'}")
                    raise
                log("every run succeeded; stopping Airflow")
    summarize(lake, first, last)
    from airflow_provider_fansly.cli import main as fansly_lake

    print("\nThe media_stats table's newest versions (fansly-lake history):")
    fansly_lake(["history", str(lake), "--limit", "8"])
    print(f"\nThe lake: {lake}/ (Delta tables media_stats, media_offers, fetch_log)")
    print(f"The chart: {workdir / 'daily_views.png'}")
    print(
        "Read it through Delta (in .venv), e.g.: "
        f"polars.scan_delta('{lake}/media_stats').collect(), or in DuckDB: "
        f"duckdb.register('stats', deltalake.DeltaTable('{lake}/media_stats')"
        ".to_pyarrow_dataset()); duckdb.sql('select dt, sum(views) from stats group by dt')"
    )
    return 0


if __name__ == "__main__":
    sys.path.insert(0, str(ROOT))
    sys.exit(main())
