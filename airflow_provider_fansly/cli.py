"""``fansly-lake``: look after a lake from the shell (convert a 0.1 lake, list table versions).

fansly-lake convert OUTPUT_PATH      convert a 0.1 plain-Parquet lake to Delta tables
fansly-lake history OUTPUT_PATH      the newest commits of media_stats, newest first
"""

from __future__ import annotations

import argparse
import sys
from datetime import datetime, timezone

__all__ = ["main"]


def _convert(output_path: str) -> int:
    from airflow_provider_fansly.storage.legacy import LEGACY_DIR, convert

    done = convert(output_path)
    print(
        f"Converted {output_path}: {done['fetch_log_rows']} fetch log row(s) written. The old "
        f"files are kept in {LEGACY_DIR}/; delete that folder once you have checked the tables."
    )
    return 0


def _history(output_path: str, limit: int) -> int:
    from airflow_provider_fansly.storage.commit import METADATA_KEYS
    from airflow_provider_fansly.storage.delta import MEDIA_STATS, open_table
    from airflow_provider_fansly.storage.location import Location

    table = open_table(Location.parse(output_path), MEDIA_STATS)
    if table is None:
        print(f"{output_path} has no media_stats table yet")
        return 1
    print(f"{'version':>8}  {'committed (UTC)':<20} {'operation':<10} {'rows':>8}  what")
    for entry in table.history(limit):
        when = datetime.fromtimestamp(entry["timestamp"] / 1000, tz=timezone.utc)
        rows = entry.get("operationMetrics", {}).get("num_added_rows", "")
        what = " ".join(
            f"{k}={entry[f'fansly.{k}']}" for k in METADATA_KEYS if f"fansly.{k}" in entry
        )
        print(
            f"{entry['version']:>8}  {when:%Y-%m-%d %H:%M:%S} {entry['operation']:<10} "
            f"{rows!s:>8}  {what}"
        )
    return 0


def main(argv: list[str] | None = None) -> int:
    """Run one ``fansly-lake`` command."""
    parser = argparse.ArgumentParser(prog="fansly-lake", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    commands.add_parser("convert", help="convert a 0.1 lake").add_argument("output_path")
    history = commands.add_parser("history", help="the newest commits of media_stats")
    history.add_argument("output_path")
    history.add_argument("--limit", type=int, default=20)
    args = parser.parse_args(argv)
    if args.command == "convert":
        return _convert(args.output_path)
    return _history(args.output_path, args.limit)


if __name__ == "__main__":
    sys.exit(main())
