"""Benchmark 5, commits: contention between writers, and a commit's cost against table size.

Contention: 8 tasks, each its own batch of media offers (cut by ``batches()``, as the example
DAGs cut them), replace the same 30 daily partitions at once (8 processes), against the same
8 commits one after another. Goal: total time at most 1.2x, every conflict retried, none
failed. A second line shows the same race with batches cut from the unsorted list.

Growth: a one-day commit of one batch on a table holding one year of 1,000 media offers,
against the same commit on an empty table (median of several), with the table in three
shapes (see ``growth``). Goal: at most 1.5x in the steady state.

    python -m benchmarks.commit [--tiny]
"""

from __future__ import annotations

import hashlib
import multiprocessing as mp
import statistics
import tempfile
import time
from typing import Any

import pyarrow as pa

from benchmarks.common import header, parse_args, report, verdict

DAY = 86_400_000
START = 1_735_689_600_000  # 2025-01-01T00:00Z
ACCOUNT = "fansly_bench"


def media_ids(count: int) -> list[str]:
    """Ids as the API gives them: opaque, so one batch's ids spread over the whole range."""
    return [hashlib.sha1(str(i).encode()).hexdigest()[:20] for i in range(count)]


def rows(ids: list[str], first_day: int, days: int) -> pa.Table:
    """Two stat types per media offer and day, in the table's schema."""
    from airflow_provider_fansly.client.datapoints import COUNT_COLUMNS
    from airflow_provider_fansly.storage.columns import (
        ROWS_SCHEMA,
        with_added_fields,
        with_partitions,
    )

    n = len(ids) * days * 2
    starts = [
        (START + (first_day + d) * DAY) * 1000 for m in ids for d in range(days) for _ in (0, 1)
    ]
    columns = {
        "account_id": [ACCOUNT] * n,
        "media_offer_id": [m for m in ids for _ in range(days * 2)],
        "bucket_start": starts,
        "stat_type": [0, 1] * (n // 2),
        **{c: [7] * n for c in COUNT_COLUMNS},
        "fetched_at": [START * 1000] * n,
    }
    base = pa.schema([f for f in ROWS_SCHEMA if f.name in columns])
    return with_partitions(with_added_fields(pa.Table.from_pydict(columns, schema=base)), DAY)


def commit(root: str, ids: list[str], first_day: int, days: int) -> tuple[float, int]:
    """One task's commit (its rows built first, untimed); return seconds and conflicts."""
    from airflow_provider_fansly.storage.files import Owned
    from airflow_provider_fansly.storage.location import Location
    from airflow_provider_fansly.storage.replace import replace_table

    table = rows(ids, first_day, days)
    after, before = START + first_day * DAY, START + (first_day + days) * DAY
    owned = Owned(ACCOUNT, tuple(ids), DAY, after, before)
    location = Location.parse(root)
    start = time.perf_counter()
    done = replace_table(location, table, owned, {})
    return time.perf_counter() - start, done.retries


def _warm(gate: Any) -> None:
    """Run one commit in this worker, untimed, so that neither mode pays delta-rs's first-use
    cost (it cost the sequential mode, which ran first, about 0.8 s a worker); the barrier
    makes every worker take one."""
    with tempfile.TemporaryDirectory() as root:
        commit(root, media_ids(2), 0, 1)
    gate.wait()


def _task(args: tuple[str, list[str], int, int, Any]) -> tuple[float, int]:
    root, ids, first_day, days, gate = args
    gate.wait()
    return commit(root, ids, first_day, days)


def contention(writers: int, per_task: int, days: int, *, sort: bool = True) -> None:
    """The same commits at once and one after another, in pre-started processes."""
    from airflow_provider_fansly.operators import batches as cut

    ids = media_ids(writers * per_task)
    batches = cut(ids, per_task) if sort else [ids[i::writers] for i in range(writers)]
    ctx = mp.get_context("spawn")  # delta-rs does not survive fork
    with ctx.Manager() as manager, ctx.Pool(writers) as pool:
        warm = manager.Barrier(writers)
        pool.map(_warm, [warm] * writers, chunksize=1)  # every worker loaded before timing
        figures = {}
        for mode in ("sequential", "concurrent"):
            with tempfile.TemporaryDirectory() as root:
                start = time.perf_counter()
                if mode == "concurrent":
                    gate = manager.Barrier(writers)
                    done = pool.map(_task, [(root, b, 0, days, gate) for b in batches])
                else:
                    done = [
                        pool.apply(_task, ((root, b, 0, days, manager.Barrier(1)),))
                        for b in batches
                    ]
                figures[mode] = (time.perf_counter() - start, sum(c for _, c in done))
    how = "batches()" if sort else "unsorted batches"
    for mode, (seconds, conflicts) in figures.items():
        report(f"{writers} x {days} days, {how}, {mode}: {conflicts} conflict(s)", seconds, "s")
    ratio = figures["concurrent"][0] / figures["sequential"][0]
    if sort:
        verdict("concurrent / sequential total time", ratio, "<= 1.2", ratio <= 1.2)
    else:
        report("unsorted: concurrent / sequential (reference)", ratio, "x")


def growth(media: int, days: int, batch: int, repeats: int) -> None:
    """A one-day commit on an empty table, and on one holding ``days`` of ``media`` offers in
    three shapes: as batch commits of a backfill leave it; right after the first maintenance
    (compacted, with every replaced file still in the log until the retention passes); and
    the steady state weekly maintenance keeps (a file per old day, batch files for the days
    still re-fetched, old tombstones expired)."""
    from datetime import date, timedelta

    from deltalake import DeltaTable, write_deltalake

    from airflow_provider_fansly.operators import batches
    from airflow_provider_fansly.storage.location import Location
    from airflow_provider_fansly.storage.maintenance import maintain

    ids = media_ids(media)
    probe = batches(ids, batch)[0]
    lookback = 3

    def median_commit(root: str) -> float:
        return statistics.median(commit(root, probe, days - 1, 1)[0] for _ in range(repeats))

    figures = {}
    with tempfile.TemporaryDirectory() as empty, tempfile.TemporaryDirectory() as full:
        base = median_commit(empty)
        for chunk in batches(ids, batch):  # one commit per batch over the whole span
            commit(full, chunk, 0, days)
        figures["as a backfill's batch commits leave it"] = median_commit(full)
        horizon = date(2025, 1, 1) + timedelta(days=days - lookback)
        maintain(Location.parse(full), compact_before=horizon)
        figures["right after its first maintenance"] = median_commit(full)
    with tempfile.TemporaryDirectory() as steady:
        old = rows(ids, 0, days - lookback).sort_by("dt")
        write_deltalake(f"{steady}/media_stats", old, partition_by=["period_ms", "dt"])
        for chunk in batches(ids, batch):
            commit(steady, chunk, days - lookback, lookback)
        DeltaTable(f"{steady}/media_stats").create_checkpoint()
        figures["steady state under weekly maintenance"] = median_commit(steady)
    report(f"one-day commit of {batch} media offers, empty table", base, "s (median)")
    for label, seconds in figures.items():
        report(f"{days} days x {media} media offers, {label}", seconds, "s (median)")
    for label, seconds in list(figures.items())[:2]:
        report(f"{label} / empty (reference)", seconds / base, "x")
    ratio = figures["steady state under weekly maintenance"] / base
    verdict("steady-state table / empty table", ratio, "<= 1.5", ratio <= 1.5)


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    header("commits: contention and table size")
    if args.tiny:
        contention(writers=2, per_task=5, days=3)
        contention(writers=2, per_task=5, days=3, sort=False)
        growth(media=20, days=10, batch=10, repeats=3)
    else:
        contention(writers=8, per_task=50, days=30)
        contention(writers=8, per_task=50, days=30, sort=False)
        growth(media=1_000, days=365, batch=50, repeats=7)


if __name__ == "__main__":
    main()
