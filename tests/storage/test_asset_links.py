"""A new lake's first asset event: one claimant wins, however many start at once."""

from __future__ import annotations

import multiprocessing
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pyarrow as pa

from airflow_provider_fansly.storage.asset_links import CLAIM_TTL, claim, is_linked, record_linked
from airflow_provider_fansly.storage.delta import ASSET_LINKS_TABLE, append
from airflow_provider_fansly.storage.location import Location

URI = "file:///lake/media_stats"
_BARRIER: Any = None


def _keep(barrier: Any) -> None:
    global _BARRIER
    _BARRIER = barrier


def _claim_at_once(lake: str, who: str) -> bool:
    _BARRIER.wait(timeout=120)
    return claim(Location.parse(lake), URI, who)


def test_of_three_tasks_claiming_at_once_exactly_one_wins(tmp_path: Path) -> None:
    """The daily, hourly and agency DAGs' first runs on one new lake, released together."""
    ctx = multiprocessing.get_context("spawn")
    with ProcessPoolExecutor(
        3, mp_context=ctx, initializer=_keep, initargs=(ctx.Barrier(3),)
    ) as pool:
        won = list(pool.map(_claim_at_once, [str(tmp_path)] * 3, ["daily", "hourly", "agency"]))
    assert won.count(True) == 1
    location = Location.parse(str(tmp_path))
    assert not is_linked(location, URI)
    assert not claim(location, URI, "later")  # the winner's claim is live
    record_linked(location, URI, "daily")
    assert is_linked(location, URI)
    assert not claim(location, URI, "after-linked")  # nothing left to claim


def test_a_lapsed_claim_does_not_block_the_next_one(tmp_path: Path) -> None:
    """A task that claimed and died before its event was recorded blocks only for a while."""
    location = Location.parse(str(tmp_path))
    old = datetime.now(timezone.utc) - CLAIM_TTL - timedelta(minutes=1)
    row = {"asset_uri": URI, "kind": "claim", "claimant": "died", "at": old}
    append(location, ASSET_LINKS_TABLE, pa.Table.from_pylist([row], ASSET_LINKS_TABLE.schema))
    assert claim(location, URI, "next")
    assert claim(location, "file:///other/media_stats", "x")  # another lake: its own claim
