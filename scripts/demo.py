"""The main job, end to end on one machine: a real Airflow backfill against the emulator.

Starts the bundled emulator, an Airflow home (SQLite, LocalExecutor, login required with
generated passwords) with the connection and Variables (no pool: the copied DAGs need none),
the daily, hourly and quality DAGs unpaused as a new deployment has them. A backfill loads
the last N days through the scheduler, another the hourly data of one day, and a manual run
re-fetches the last days after the emulator's clock moved on; the quality DAG runs on each
run's update. Some media offers are planted with anomalies (a spike, hourly/daily
disagreement, late stats, one deleted) so that the quality checks have something to find.
Then it reads the Delta tables back with DuckDB, prints the newest quality findings and the
table's versions (one commit per task), charts daily views per media offer, shows what the
Fansly page serves (and that it refuses callers who have not logged in), and stops
everything it started; at a terminal, Airflow stays up for you to browse until you press
Enter. Safe to re-run: each task replaces its own rows, nothing is doubled.

    python scripts/demo.py [--days 14] [--workdir demo-output] [--no-serve]
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
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from devtools.stack import AirflowStack

ROOT = Path(__file__).resolve().parents[1]
DAG_ID = "fansly_media_stats_daily"
HOURLY = "fansly_media_stats_hourly"
QUALITY = "fansly_media_stats_quality"
MEDIA_OFFERS = [f"demo-media-{i}" for i in range(1, 6)]
#: Media offers whose numbers the emulator breaks (docs/emulator.md), so that the quality
#: checks have something to find: a spike, hourly/daily disagreement, late stats, one deleted.
PLANTED = ["spike-1", "spike-2", "split-1", "split-2", "restated-1", "deleted-media"]
#: Who may log in (user -> role); the stack prints generated passwords.
USERS = {"admin": "admin", "viewer": "viewer"}
MONTHLY_CREDITS = 5000


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
    gaps = coverage_gaps(lake, {DEFAULT_ACCOUNT: MEDIA_OFFERS + PLANTED}, first, last)
    missing = [g for g in gaps if g.missing]
    print(
        f"\n{len(rows)} day(s) landed for {len(MEDIA_OFFERS + PLANTED)} media offers; "
        f"coverage gaps: {len(missing)} (deleted-media answered gone, as planted)"
    )
    with duckdb.connect() as con:
        con.register("stats", open_dataset(lake))
        per_media = con.sql(
            "select media_offer_id, dt, sum(views) from stats "
            "where period_ms = 86400000 group by all"
        ).fetchall()
    days = [first + timedelta(days=i) for i in range((last - first).days + 1)]
    answered = [m for m in MEDIA_OFFERS + PLANTED if m != "deleted-media"]
    series = {media: dict.fromkeys(days, 0) for media in answered}  # fetched and quiet: 0
    for media, day, views in per_media:
        if first <= day <= last:
            series[media][day] = views
    chart(series, lake.parent / "daily_views.png")


def run_airflow(stack: AirflowStack, url: str, first: date, last: date, days: int) -> None:
    """Prepare, backfill the daily DAG and the hourly one for the anomaly day, start; then
    move the emulator's clock on and re-fetch the last days (late stats), and wait for the
    quality runs each producing run triggers."""
    import httpx

    log(f"preparing an Airflow home in {stack.home} (SQLite, LocalExecutor)")
    stack.prepare(pools={})
    command = f"--dag-id {DAG_ID} --from-date {first} --to-date {last}"
    log(f"airflow backfill create {command}")
    stack.backfill(DAG_ID, first.isoformat(), last.isoformat())
    anomaly = last - timedelta(days=1)
    log(f"airflow backfill create --dag-id {HOURLY} --from-date {anomaly} --to-date {anomaly}")
    stack.backfill(HOURLY, anomaly.isoformat(), anomaly.isoformat())
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
    stack.wait_for_runs(HOURLY, 1, timeout=600)
    log(f"hourly backfill of {anomaly} succeeded")
    later = int((time.time() + 5 * 86_400) * 1000)
    httpx.post(f"{url}/_emulator/config", json={"clock_ms": later}, timeout=10).raise_for_status()
    log("the emulator's clock is now 5 days on (late stats arrived); a manual run re-fetches")
    stack.settled_runs(QUALITY, "asset_triggered", settle=10)
    manual = stack.trigger(DAG_ID, f"{date.today()}T00:00:00Z")
    stack.wait_for_runs(DAG_ID, 1, timeout=600, run_type="manual")
    quality = stack.caught_up(QUALITY, DAG_ID, manual)
    states = [r["state"] for r in quality]
    log(
        f"quality DAG: {states.count('success')}/{len(states)} run(s) succeeded, "
        "triggered by the fansly_media_stats_updated events (one per producing run, not per "
        "batch; a run consumes those that came while the one before it ran)"
    )


def report(lake: Path, first: date, last: date) -> None:
    """What landed: day totals, the newest quality findings, the table's versions."""
    from airflow_provider_fansly.cli import main as fansly_lake

    summarize(lake, first, last)
    show_tags(lake, first, last)
    show_quality(lake)
    print("\nThe media_stats table's newest versions (fansly-lake history):")
    fansly_lake(["history", str(lake), "--limit", "8"])


def show_tags(lake: Path, first: date, last: date) -> None:
    """Print the tags that brought the most For-You-page views in the window (fyp_tags)."""
    import polars as pl

    keys = ["media_offer_id", "period_ms", "window_start", "window_end", "tag_id"]
    top = (
        pl.scan_delta(str(lake / "fyp_tags"))
        .filter(pl.col("dt").is_between(first, last), pl.col("period_ms") == 86_400_000)
        .sort("fetched_at")
        .unique(keys, keep="last")
        .group_by("tag_id")
        .agg(pl.col("tag_name").last(), pl.col("views").sum(), pl.col("media_offer_id").n_unique())
        .sort("views", descending=True)
        .head(5)
        .collect()
    )
    print("\nTop For-You-page tags of the window (fyp_tags; daily answers, windows overlap):")
    for r in top.iter_rows(named=True):
        name, media = r["tag_name"] or r["tag_id"], r["media_offer_id"]
        print(f"  #{name:<18} {r['views']:>7} views  {media} media offer(s)")


def show_quality(lake: Path) -> None:
    """Print the newest quality run's findings from the quality_results table."""
    from deltalake import DeltaTable

    rows = DeltaTable(str(lake / "quality_results")).to_pyarrow_table().to_pylist()
    newest = max(r["checked_at"] for r in rows)
    latest = [r for r in rows if r["checked_at"] == newest]
    found = [r for r in latest if r["status"] != "passed"]
    passed = sorted({r["check_id"] for r in latest} - {r["check_id"] for r in found})
    print(f"\nThe newest quality run (quality_results, period {latest[0]['period_ms']} ms):")
    for r in sorted(found, key=lambda r: (r["check_id"], str(r["dt"]), r["media_offer_id"] or "")):
        scope = " / ".join(str(r[k]) for k in ("account_id", "media_offer_id", "dt") if r[k])
        print(f"  {r['status'].upper():7} {r['check_id']:<16} [{scope}] {r['message']}")
    print(f"  passed: {', '.join(passed)}")


def show_page(stack: AirflowStack, workdir: Path) -> None:
    """Show what the Fansly page serves, that it refuses anonymous callers, and take a
    screenshot as the viewer sees it (when Debian's chromium is there)."""
    import httpx

    page, api = f"{stack.url}/fansly/", f"{stack.url}/fansly/api"
    anonymous = httpx.get(page, timeout=30).status_code, httpx.get(f"{api}/coverage").status_code
    viewer = {"Authorization": f"Bearer {stack.token('viewer')}"}

    def get(path: str) -> Any:
        answer = httpx.get(f"{api}/{path}", headers=viewer, timeout=60)
        answer.raise_for_status()
        return answer.json()

    print(f"\nThe Fansly page: {page} (the UI's navigation: Fansly)")
    print(f"  without logging in: the page {anonymous[0]} (to the login), the API {anonymous[1]}")
    for account in get("coverage")["accounts"]:
        totals = ", ".join(f"{n} {s}" for s, n in account["totals"].items() if n)
        print(f"  calendar of {account['account_id']}: {totals}")
    for run in get("quality"):
        checks = ", ".join(f"{c['check_id']} {c['status']}" for c in run["checks"])
        print(f"  quality, period {run['period_ms']} ms: {checks}")
    credits = get("credits")
    print(f"  credits in {credits['month']}: {credits['spent']} spent of {credits['budget']}")
    if shutil.which("chromium"):
        from devtools.browser import logged_in

        with logged_in(stack.url, "viewer", stack.passwords["viewer"]) as browser:
            browser.goto(page)
            browser.screenshot(path=str(workdir / "fansly-page.png"), full_page=True)
        print(f"  as the viewer sees it: {workdir / 'fansly-page.png'}")


def serve(stack: AirflowStack) -> None:
    """Keep Airflow up for a person at a terminal until they press Enter."""
    users = ", ".join(f"{u} / {p}" for u, p in stack.passwords.items())
    print(f"\nAirflow stays up at {stack.url}/ (log in as {users}); the Fansly page is in its")
    input("navigation. Press Enter to stop it. ")


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--days", type=int, default=14)
    parser.add_argument("--workdir", type=Path, default=ROOT / "demo-output")
    parser.add_argument(
        "--no-serve", action="store_true", help="stop Airflow at the end even at a terminal"
    )
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
        for dag_id in (DAG_ID, HOURLY, QUALITY):
            (dags / f"{dag_id}.py").symlink_to(ROOT / "dags" / f"{dag_id}.py")
        anomaly = last - timedelta(days=1)
        log(f"starting the Fansly API emulator (anomalies planted on {anomaly})")
        with emulator_process("--rate-limit", "600", "--anomaly-day", str(anomaly)) as url:
            env = {
                "AIRFLOW_CONN_FANSLY_DEFAULT": connection_env(
                    url, DEFAULT_KEY, requests_per_minute=600, monthly_credits=MONTHLY_CREDITS
                ),
                "AIRFLOW_VAR_FANSLY_ACCOUNT_ID": DEFAULT_ACCOUNT,
                "AIRFLOW_VAR_FANSLY_MEDIA_OFFER_IDS": json.dumps(MEDIA_OFFERS + PLANTED),
                "AIRFLOW_VAR_FANSLY_OUTPUT_PATH": str(lake),
                "FANSLY_START_DATE": first.isoformat(),
            }
            with AirflowStack(home, dags, env, users=USERS) as stack:
                log(f"login required: {', '.join(stack.passwords)} (generated passwords)")
                try:
                    run_airflow(stack, url, first, last, args.days)
                    log("every run succeeded")
                    report(lake, first, last)
                    show_page(stack, workdir)
                    if sys.stdin.isatty() and not args.no_serve:
                        serve(stack)
                finally:
                    shutil.copytree(home / "logs", workdir / "airflow-logs", dirs_exist_ok=True)
                    log(f"Airflow's logs are kept in {workdir / 'airflow-logs'}; stopping Airflow")
    print(
        f"\nThe lake: {lake}/ (Delta tables media_stats, media_offers, fyp_tags, fetch_log, "
        "credit_ledger, restatements, quality_results)"
    )
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
