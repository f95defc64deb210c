"""The page's cache: a summary in the making holds up only requests for that summary, each
is made once however many ask at once, and the cache stays within its bytes."""

from __future__ import annotations

import threading
from typing import Any

import pytest
from cachetools import LRUCache

from airflow_provider_fansly.plugins import summary


@pytest.fixture(autouse=True)
def empty_cache() -> None:
    summary._cache.clear()


def test_a_slow_summary_blocks_only_its_own_key() -> None:
    started, release = threading.Event(), threading.Event()
    made: list[str] = []

    def slow() -> list[str]:
        started.set()
        assert release.wait(10)
        made.append("slow")
        return ["a"]

    results: dict[str, Any] = {}
    waiters = [
        threading.Thread(target=lambda n=n: results.setdefault(n, summary._cached("A", slow)))
        for n in ("first", "second")
    ]
    waiters[0].start()
    assert started.wait(10)
    waiters[1].start()  # asks for the same summary while it is being made
    # another key is served at once, while "A" is still being made
    assert summary._cached("B", lambda: ["b"]) == ["b"]
    assert not release.is_set() and made == []
    release.set()
    for waiter in waiters:
        waiter.join(10)
    assert results == {"first": ["a"], "second": ["a"]} and made == ["slow"]  # made once


def test_the_cache_is_bounded_by_bytes_not_entries(monkeypatch: pytest.MonkeyPatch) -> None:
    cache: LRUCache[Any, Any] = LRUCache(maxsize=10_000, getsizeof=summary._size)
    monkeypatch.setattr(summary, "_cache", cache)
    big = ["x" * 3_000]
    for key in range(5):
        summary._cached(("big", key), lambda: big)
    assert cache.currsize <= 10_000
    assert list(cache) == [("big", 2), ("big", 3), ("big", 4)]
    for key in range(100):  # small ones: many fit
        summary._cached(("small", key), lambda: [1])
    assert len(cache) > 50 and cache.currsize <= 10_000
    huge = ["x" * 20_000]  # larger than the whole cache: served, not kept
    assert summary._cached("huge", lambda: huge) is huge and "huge" not in cache


def test_a_summary_that_fails_to_be_made_leaves_no_lock_behind() -> None:
    """A failing make releases its key: the next request makes it again, and nothing grows."""
    calls: list[int] = []

    def failing() -> list[int]:
        calls.append(1)
        raise OSError("the store is down")

    for _ in range(3):
        with pytest.raises(OSError, match="the store is down"):
            summary._cached("flaky", failing)
    assert len(calls) == 3 and summary._making == {}
    assert summary._cached("flaky", lambda: [2]) == [2]
