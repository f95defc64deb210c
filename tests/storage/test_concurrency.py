"""Tasks that touch the same rows at the same moment, each in its own process, as Airflow runs them.

Each case starts its tasks together and holds every one at a barrier just before its commit,
so all commits start from the same table snapshot and race; the table must end with every row
exactly once, equal to the emulator's truth.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from devtools.workers import finish, start_worker
from tests.lake import lake_rows, lake_tags, table, tag_truth, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = [f"c{i}" for i in range(6)]

pytestmark = pytest.mark.usefixtures("fansly_conn")

# (ids, after, before, period) of each task that runs at once
CASES: list[tuple[str, list[tuple[list[str], int, int, int]], bool]] = [
    (
        "recut-batches",
        [
            (IDS, D0, D0 + 10 * DAY_MS, DAY_MS),
            (IDS[:3], D0, D0 + 10 * DAY_MS, DAY_MS),
            (IDS[3:], D0, D0 + 10 * DAY_MS, DAY_MS),
        ],
        True,
    ),
    (
        "task-and-its-copy",
        [(IDS, D0, D0 + 10 * DAY_MS, DAY_MS), (IDS, D0, D0 + 10 * DAY_MS, DAY_MS)],
        True,
    ),
    (
        "sub-daily-windows-sharing-a-day",
        [
            (IDS, D0, D0 + 9 * HOUR_MS, HOUR_MS),
            (IDS, D0 + 6 * HOUR_MS, D0 + 18 * HOUR_MS, HOUR_MS),
            (IDS, D0 + 18 * HOUR_MS, D0 + DAY_MS, HOUR_MS),
        ],
        False,
    ),
    (
        "backfill-overlapping-scheduled-runs",
        [(IDS, D0 + d * DAY_MS, D0 + (d + 1) * DAY_MS, DAY_MS) for d in range(4)]
        + [(IDS, D0 + 1 * DAY_MS, D0 + 4 * DAY_MS, DAY_MS)],  # a scheduled run with lookback
        False,
    ),
]


@pytest.mark.parametrize(
    ("tasks", "must_conflict"), [c[1:] for c in CASES], ids=[c[0] for c in CASES]
)
def test_concurrent_tasks_leave_every_row_exactly_once(
    tmp_path: Path,
    fansly_conn: Emulator,
    tasks: list[tuple[list[str], int, int, int]],
    must_conflict: bool,
) -> None:
    lake, gate = tmp_path / "lake", tmp_path / "barrier"
    gate.mkdir()
    workers = [
        start_worker(
            lake,
            fansly_conn,
            after,
            before,
            ids=ids,
            period=period,
            barrier=gate,
            parties=len(tasks),
        )
        for ids, after, before, period in tasks
    ]
    summaries: list[dict[str, Any]] = [finish(w) for w in workers]
    period = tasks[0][3]
    first, last = min(t[1] for t in tasks), max(t[2] for t in tasks)
    assert lake_rows(lake) == truth(DEFAULT_ACCOUNT, IDS, first, last, period)
    # every answer's tags once: a task replaces only its own (or its copy's) answers
    assert lake_tags(lake) == tag_truth(DEFAULT_ACCOUNT, fansly_conn.state.log, 100)
    versions = sorted(s["table_version"] for s in summaries)
    assert versions == list(range(1, len(tasks) + 1))  # one commit each, none lost
    if must_conflict:  # they replaced the same rows from one snapshot: Delta saw it
        assert sum(s["commit_conflicts"] for s in summaries) >= 1
    logged = table(lake, "fetch_log")
    assert logged.num_rows == sum(
        len(t[0]) * len({*range(t[1] // DAY_MS, -(-t[2] // DAY_MS))}) for t in tasks
    )


def test_tasks_whose_metadata_merge_runs_out_of_retries_still_succeed(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    """Four batches merge into media_offers from one snapshot with a single try each: all but
    one conflict for good, after their data committed. Each task still succeeds, its rows and
    fetch log land, and its summary says its metadata waits for the next fetch."""
    lake, gate = tmp_path / "lake", tmp_path / "merge-barrier"
    gate.mkdir()
    batches = [IDS[i : i + 2] for i in range(0, 6, 2)] + [["c6", "c7"]]
    workers = [
        start_worker(lake, fansly_conn, D0, D0 + DAY_MS, ids=ids, merge_barrier=gate,
                     parties=len(batches), metadata_tries=1)
        for ids in batches
    ]  # fmt: skip
    summaries = [finish(w) for w in workers]
    every = [m for ids in batches for m in ids]
    assert lake_rows(lake) == truth(DEFAULT_ACCOUNT, every, D0, D0 + DAY_MS, DAY_MS)
    assert table(lake, "fetch_log").num_rows == len(every)
    updated = [s["media_offers_updated"] for s in summaries]
    assert updated.count(True) >= 1 and updated.count(False) >= 1
    merged = {r["media_offer_id"] for r in table(lake, "media_offers").to_pylist()}
    for ids, ok in zip(batches, updated, strict=True):
        assert set(ids) <= merged if ok else not set(ids) & merged
