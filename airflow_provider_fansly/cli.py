"""``fansly-lake``: look after a lake from the shell (convert a 0.1 lake, list table versions).

fansly-lake convert OUTPUT_PATH      convert a 0.1 plain-Parquet lake to Delta tables
fansly-lake history OUTPUT_PATH      the newest commits of media_stats, newest first
fansly-lake credits OUTPUT_PATH      credits this lake's tasks spent in a month
fansly-lake cost OUTPUT_PATH ...     what a backfill will cost, and against --monthly-credits
"""

from __future__ import annotations

import argparse
import sys
from datetime import date, datetime, timezone

__all__ = ["main"]


def _convert(output_path: str) -> int:
    from airflow_provider_fansly.hooks.lake import lake_location
    from airflow_provider_fansly.storage.legacy import LEGACY_DIR, convert

    done = convert(lake_location(output_path))
    print(
        f"Converted {output_path}: {done['fetch_log_rows']} fetch log row(s) written. The old "
        f"files are kept in {LEGACY_DIR}/; delete that folder once you have checked the tables."
    )
    return 0


def _history(output_path: str, limit: int) -> int:
    from airflow_provider_fansly.hooks.lake import lake_location
    from airflow_provider_fansly.storage.commit import METADATA_KEYS
    from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE, open_table
    from airflow_provider_fansly.storage.replace import rows_added

    table = open_table(lake_location(output_path), MEDIA_STATS_TABLE)
    if table is None:
        print(f"{output_path} has no media_stats table yet")
        return 1
    print(f"{'version':>8}  {'committed (UTC)':<20} {'operation':<10} {'rows':>8}  what")
    for entry in table.history(limit):
        when = datetime.fromtimestamp(entry["timestamp"] / 1000, tz=timezone.utc)
        rows = rows_added(entry)
        what = " ".join(
            f"{k}={entry[f'fansly.{k}']}" for k in METADATA_KEYS if f"fansly.{k}" in entry
        )
        print(
            f"{entry['version']:>8}  {when:%Y-%m-%d %H:%M:%S} {entry['operation']:<10} "
            f"{'' if rows is None else rows!s:>8}  {what}"
        )
    return 0


def _day(text: str) -> date:
    """An argument that must be a day, YYYY-MM-DD."""
    try:
        return date.fromisoformat(text)
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a day (YYYY-MM-DD)") from None


def _month(text: str) -> str:
    """An argument that must be a month, YYYY-MM."""
    try:
        datetime.strptime(text, "%Y-%m")
    except ValueError:
        raise argparse.ArgumentTypeError(f"{text!r} is not a month (YYYY-MM)") from None
    return text


def _credits(output_path: str, month: str | None) -> int:
    from airflow_provider_fansly.credits import credits_spent

    spent = credits_spent(output_path, month)
    print(f"{output_path} spent {spent} credit(s) in {month or 'this month'} (UTC)")
    return 0


def _cost(args: argparse.Namespace) -> int:
    from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
    from airflow_provider_fansly.credits import backfill_cost

    cost = backfill_cost(
        args.output_path,
        start=args.start,
        end=args.end,
        media_offers=args.media_offers,
        period=HOUR_MS if args.period == "hourly" else DAY_MS,
        run_days=args.run_days,
        monthly_credits=args.monthly_credits,
    )
    print(cost.describe())
    return 0 if cost.left is None or cost.requests <= cost.left else 2


def main(argv: list[str] | None = None) -> int:
    """Run one ``fansly-lake`` command."""
    parser = argparse.ArgumentParser(prog="fansly-lake", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("convert", help="convert a 0.1 lake").add_argument("output_path")
    history = commands.add_parser("history", help="the newest commits of media_stats")
    history.add_argument("output_path")
    history.add_argument("--limit", type=int, default=20)
    credits = commands.add_parser("credits", help="credits spent in a month")
    credits.add_argument("output_path")
    credits.add_argument("--month", type=_month, help="YYYY-MM (UTC); default this month")
    cost = commands.add_parser("cost", help="what a backfill will cost")
    cost.add_argument("output_path")
    cost.add_argument("--start", type=_day, required=True, help="first day, YYYY-MM-DD")
    cost.add_argument("--end", type=_day, required=True, help="the day after the last")
    cost.add_argument("--media-offers", type=int, required=True, help="media offers per run")
    cost.add_argument("--period", choices=("daily", "hourly"), default="daily")
    cost.add_argument("--run-days", type=int, default=1, help="days per run (daily DAG: 1)")
    cost.add_argument("--monthly-credits", type=int, help="the key's monthly plan")
    args = parser.parse_args(argv)
    if args.command == "convert":
        return _convert(args.output_path)
    if args.command == "credits":
        return _credits(args.output_path, args.month)
    if args.command == "cost":
        return _cost(args)
    return _history(args.output_path, args.limit)


if __name__ == "__main__":
    sys.exit(main())
