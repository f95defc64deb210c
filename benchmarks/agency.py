"""Benchmark 9, agency scale: the reference lake of ``benchmarks.reference`` (10,000 media
offers, 20 accounts, three years daily and the last 90 days hourly, about 50 million rows).

On a copy of the lake (its data files linked, its log copied), in this order:

1. one day's commits: the last day re-fetched by its 100 batches (20 accounts x 5), each
   batch's commit against the same commit on an empty table (median);
2. eight batches of that day committing at once (eight processes held at a barrier): failed
   tasks and conflicts retried;
3. the daily DAG's quality run after those commits (incremental: the run before it judged the
   lake as it was), its time and peak RSS, against the same run on a lake of the same media
   offers with a tenth of the daily history (110 days);
4. a full audit of every row (``mode="audit"``): peak RSS;
5. the page's first render, nothing cached: time, and the memory it adds to the process.

The lake's size (rows, live files, bytes) is printed beside the figures measured on it. The
lakes are built once under ``--root`` (default ``/tmp/fansly-reference``) and reused.

    python -m benchmarks.agency [--tiny] [--root PATH]
"""

from __future__ import annotations

import argparse
import json
import multiprocessing as mp
import os
import shutil
import statistics
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

from benchmarks.common import child_json, finish_child, header, peak_mib, report, verdict
from benchmarks.reference import DAY, END, Shape, Writer, build, check_slice, describe

#: The reference lake, and the same media offers with a tenth of the daily history.
FULL = Shape()
TENTH = Shape(daily_days=110)
TINY = Shape(accounts=4, per_account=30, daily_days=60, hourly_days=5)
TINY_TENTH = Shape(accounts=4, per_account=30, daily_days=10, hourly_days=5)


def _copy(source: Path, target: Path) -> None:
    """Copy a lake cheaply: data files are never rewritten, so they are linked; logs are
    copied (a checkpoint pointer is rewritten in place)."""

    def link(src: str, dst: str) -> None:
        if "_delta_log" in src:
            shutil.copy2(src, dst)
        else:
            os.link(src, dst)

    shutil.copytree(source, target, copy_function=link)


def _day_batches(root: Path, shape: Shape) -> list[Any]:
    """The lake's last day as its 100 batches would re-fetch it: (account, ids, rows)."""
    writer = Writer(root, shape)
    rows, _ = writer.stats_of_day(DAY, shape.daily_days - 1)
    parts = writer.day_batches(rows)
    return [(p["account_id"][0].as_py(), sorted(set(p["media_offer_id"].to_pylist())), p)
            for p in parts]  # fmt: skip


def _commit(root: str, account: str, ids: list[str], rows: Any) -> tuple[float, int]:
    from airflow_provider_fansly.storage.files import Owned
    from airflow_provider_fansly.storage.location import Location
    from airflow_provider_fansly.storage.replace import replace_table

    after = int(rows["bucket_start"][0].as_py().timestamp() * 1000) // DAY * DAY
    owned = Owned(account, tuple(ids), DAY, after, after + DAY)
    start = time.perf_counter()
    done = replace_table(Location.parse(root), rows, owned, {"fansly.run_id": "agency"})
    return time.perf_counter() - start, done.retries


def one_day(lake: Path, batches: list[Any]) -> dict[str, float]:
    """Each batch's commit on the lake and the same commit on an empty table (median)."""
    on_lake = [_commit(str(lake), *b)[0] for b in batches]
    with tempfile.TemporaryDirectory() as empty:
        _commit(empty, *batches[0])  # delta-rs's first use, and the table's creation
        on_empty = [_commit(empty, *b)[0] for b in batches[1:]]
    return {"lake": statistics.median(on_lake), "empty": statistics.median(on_empty)}


def _racer(args: tuple[str, str, list[str], Any, Any]) -> tuple[float, int, str]:
    root, account, ids, rows, gate = args
    gate.wait()
    try:
        seconds, conflicts = _commit(root, account, ids, rows)
    except Exception as error:  # a failed task, counted
        return 0.0, 0, f"{type(error).__name__}: {error}"
    return seconds, conflicts, ""


def eight_at_once(lake: Path, batches: list[Any]) -> dict[str, float]:
    """Eight batches of one day (fewer on a tiny lake) commit at once, each in its own
    process."""
    racing = batches[:8]
    ctx = mp.get_context("spawn")  # delta-rs does not survive fork
    with ctx.Manager() as manager, ctx.Pool(len(racing)) as pool:
        gate = manager.Barrier(len(racing))
        done = pool.map(_racer, [(str(lake), *b, gate) for b in racing], chunksize=1)
    return {
        "failed": sum(1 for *_, error in done if error),
        "conflicts": sum(c for _, c, _ in done) / len(done),
        "slowest": max(s for s, _, _ in done),
    }


def child_quality(lake: str, mode: str) -> None:
    """Run the quality operator as the daily DAG does (every check, 28 days of history)."""
    from collections import defaultdict

    from airflow_provider_fansly.operators.quality import MediaStatsQualityOperator

    class Events:
        def add(self, *args: object, **kwargs: object) -> None:
            pass

    operator = MediaStatsQualityOperator(
        task_id="quality", output_path=lake, as_of=str(END), mode=mode
    )
    context: dict[str, Any] = {"run_id": f"agency-{mode}", "outlet_events": defaultdict(Events)}
    start = time.perf_counter()
    try:
        summary = operator.execute(context)  # type: ignore[arg-type]
        failed = 0
    except Exception as error:  # a failed finding still recorded everything
        summary, failed = {}, 1
        print(f"quality run failed: {error}", file=sys.stderr)
    print(json.dumps({"seconds": time.perf_counter() - start, "peak_mib": peak_mib(),
                      "failed": failed, "scope": summary.get("scope")}))  # fmt: skip


def child_page(lake: str) -> None:
    """Render the page once, nothing cached; the time and the memory the render added."""
    os.environ["AIRFLOW_VAR_FANSLY_LAKES"] = json.dumps(
        {"agency": {"path": lake, "monthly_credits": 10**6}}
    )
    from airflow_provider_fansly.plugins.app import View, render_page

    before = peak_mib()
    start = time.perf_counter()
    html = render_page(View(), today=END)
    print(json.dumps({"seconds": time.perf_counter() - start, "added_mib": peak_mib() - before,
                      "bytes": len(html)}))  # fmt: skip


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true", help="a small lake, for the test suite")
    parser.add_argument("--root", type=Path, default=Path("/tmp/fansly-reference"))
    args = parser.parse_args()
    shape, tenth = (TINY, TINY_TENTH) if args.tiny else (FULL, TENTH)
    header(f"agency scale: {shape.describe()}")
    figures: dict[str, dict[str, float]] = {}
    for name, form in (("full", shape), ("tenth", tenth)):
        source = args.root / f"{'tiny-' if args.tiny else ''}{name}"
        built = build(source, form)
        report(f"{name}: built in (s, once, then reused)", built["seconds"], "s")
        with tempfile.TemporaryDirectory(prefix="fansly-agency-") as scratch:
            lake = Path(scratch) / "lake"
            _copy(source, lake)
            print(f"   {name} lake: {describe(lake)}")
            child_json("agency", "quality", str(lake), "incremental")  # judges it as it is
            batches = _day_batches(lake, form)
            figures[f"{name}-commit"] = one_day(lake, batches)
            figures[f"{name}-quality"] = child_json("agency", "quality", str(lake), "incremental")
            if name == "full":
                print(f"   after the day's commits: {describe(lake)}")
                figures["race"] = eight_at_once(lake, batches)
                figures["audit"] = child_json("agency", "quality", str(lake), "audit")
                figures["page"] = child_json("agency", "page", str(lake))
    print(
        f"   slice of the reference lake equal to the emulator's: "
        f"{check_slice(args.root / ('tiny-full' if args.tiny else 'full'), shape)} rows"
    )
    _print(figures)


def _print(figures: dict[str, dict[str, float]]) -> None:
    commit, quality, tenth = figures["full-commit"], figures["full-quality"], figures[
        "tenth-quality"]  # fmt: skip
    report("one-day commit of a batch, reference lake", commit["lake"], "s (median)")
    report("the same on an empty table", commit["empty"], "s (median)")
    ratio = commit["lake"] / commit["empty"]
    verdict("one-day commit: reference lake / empty", ratio, "<= 1.5", ratio <= 1.5)
    race = figures["race"]
    report("8 batches at once: failed tasks", race["failed"], "")
    verdict("8 batches at once: conflicts retried per task", race["conflicts"], "<= 1",
            race["failed"] == 0 and race["conflicts"] <= 1)  # fmt: skip
    report("daily quality run after a day's commits", quality["seconds"], "s")
    report("  its peak RSS", quality["peak_mib"], "MiB")
    report("  what it read", 0 if quality["scope"] is None else quality["scope"]["partitions"] or 0,
           "partition(s)")  # fmt: skip
    report("the same run, a tenth of the history", tenth["seconds"], "s")
    met = quality["seconds"] <= 30 and quality["peak_mib"] <= 1024
    verdict("daily quality run: time (s), peak <= 1 GiB", quality["seconds"], "<= 30 s", met)
    ratio = quality["seconds"] / tenth["seconds"]
    verdict("quality: reference / a tenth of the history", ratio, "<= 1.5", ratio <= 1.5)
    audit = figures["audit"]
    report("full audit of every row", audit["seconds"], "s")
    verdict("full audit: peak RSS (MiB)", audit["peak_mib"], "<= 2048", audit["peak_mib"] <= 2048)
    page = figures["page"]
    verdict("page: first render, nothing cached (s)", page["seconds"], "<= 2", page["seconds"] <= 2)
    verdict("page: memory the render added (MiB)", page["added_mib"], "<= 500",
            page["added_mib"] <= 500)  # fmt: skip


if __name__ == "__main__":
    if sys.argv[1:2] == ["--child"]:
        if sys.argv[2] == "quality":
            child_quality(sys.argv[3], sys.argv[4])
        else:
            child_page(sys.argv[3])
        finish_child()
    else:
        main()
