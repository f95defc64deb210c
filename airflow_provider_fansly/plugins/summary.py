"""The lake summaries the page draws, cached until a table they read gets a new version.

A request opens the Delta logs to learn the versions (cheap), and reads data files only when
a run committed since the summary was made, so a page served twice reads the lake once.

The cache (cachetools' LRU) holds at most :data:`MAX_BYTES` of summaries (a calendar's size
follows its media offers and days), the least recently used going first. Each summary is made
under a lock of its own key, released however the making ends, so a slow calendar of one lake
never holds up another lake's requests; two requests for the same summary make it once. Each
lake's location, with its resolved storage credentials (resolved again when they expire), and
its fetch-log history are kept per path, for at most :data:`MAX_LAKES` lakes.
"""

from __future__ import annotations

import contextlib
import json
import threading
from collections.abc import Callable, Hashable
from datetime import date, datetime, timezone
from typing import Any, TypeVar

import polars as pl
from cachetools import LRUCache

from airflow_provider_fansly.hooks.lake import lake_location
from airflow_provider_fansly.plugins import overview
from airflow_provider_fansly.plugins.calendar import Calendar, read_calendar
from airflow_provider_fansly.plugins.lakes import Lake
from airflow_provider_fansly.storage.delta import (
    CREDIT_LEDGER_TABLE,
    FETCH_LOG_TABLE,
    FYP_TAGS_TABLE,
    QUALITY_RESULTS_TABLE,
    TABLES,
    TOP_MEDIA_TABLE,
    TableSpec,
    open_table,
)
from airflow_provider_fansly.storage.history import History, read_history
from airflow_provider_fansly.storage.location import Location

__all__ = [
    "MAX_BYTES",
    "calendar",
    "credits",
    "plan",
    "quality",
    "tables",
    "top_tags",
]

T = TypeVar("T")
#: The most the cached summaries hold together (an estimate of their size).
MAX_BYTES = 256 * 2**20
#: The most lakes whose locations and histories are kept (the page lists a handful).
MAX_LAKES = 64
_lock = threading.Lock()  # guards the caches only, never held while a summary is made
_making: dict[Hashable, threading.Lock] = {}  # only keys being made right now
_locations: LRUCache[str, Location] = LRUCache(maxsize=MAX_LAKES)
_histories: LRUCache[tuple[str, int], tuple[int | None, History]] = LRUCache(maxsize=2 * MAX_LAKES)


def _version(location: Location, spec: TableSpec) -> int | None:
    table = open_table(location, spec)
    return None if table is None else table.version()


def _location(path: str) -> Location:
    """The lake's location, its credentials resolved once per path (again once expired)."""
    with _lock:
        known = _locations.get(path)
    if known is None:
        known = lake_location(path)
        with _lock:
            known = _locations.setdefault(path, known)
    return known


def _size(value: Any) -> int:
    """About how many bytes a summary holds."""
    if isinstance(value, pl.DataFrame):
        return int(value.estimated_size())
    if isinstance(value, Calendar):
        cells = sum(len(c) for c in value.cells.values())
        return _size(value.media) + 120 * cells + 150 * len(value.rule.gone_from)
    return len(json.dumps(value, default=str))


_cache: LRUCache[Hashable, Any] = LRUCache(maxsize=MAX_BYTES, getsizeof=_size)


def _cached(key: Hashable, make: Callable[[], T]) -> T:
    """The value made for ``key``, made once (the key holds the versions it depends on)."""
    with _lock:
        if key in _cache:
            return _cache[key]
        making = _making.setdefault(key, threading.Lock())
    with making:
        try:
            with _lock:
                if key in _cache:  # made while this request waited for it
                    return _cache[key]
            value = make()
            with _lock, contextlib.suppress(ValueError):  # larger than the cache: not kept
                _cache[key] = value
            return value
        finally:
            with _lock:
                _making.pop(key, None)


def _history(location: Location, path: str, period: int, version: int | None) -> History:
    """The period's fetch-log history, updated from the files added since the last one."""
    with _lock:
        known = _histories.get((path, period))
    if known is not None and known[0] == version:
        return known[1]
    made = read_history(location, period, known[1] if known else None)
    with _lock:
        _histories[(path, period)] = (version, made)
    return made


def calendar(lake: Lake, period: int, today: date, first: date) -> Calendar:
    """The coverage calendar of a lake's period, from ``first`` to ``today``."""
    location = _location(lake.path)
    accounts = tuple(sorted((a, ids) for a, ids in (lake.accounts or {}).items()))
    version = _version(location, FETCH_LOG_TABLE)
    key = ("calendar", lake.path, period, today, first, accounts, version)
    days = (today - first).days + 1

    def make() -> Calendar:
        history = _history(location, lake.path, period, version)
        return read_calendar(location, period, today, days, lake.accounts, history)

    return _cached(key, make)


def top_tags(lake: Lake, period: int, first: date, last: date) -> list[dict[str, Any]]:
    """Each account's top For-You-page tags in the days ``first`` to ``last``."""
    location = _location(lake.path)
    key = ("tags", lake.path, period, first, last, _version(location, FYP_TAGS_TABLE))
    return _cached(key, lambda: overview.top_tags(location, period, first, last))


def quality(lake: Lake) -> list[dict[str, Any]]:
    """The latest quality run of each period and its history."""
    location = _location(lake.path)
    key = ("quality", lake.path, _version(location, QUALITY_RESULTS_TABLE))
    return _cached(key, lambda: overview.quality(location))


def credits(lake: Lake, month: str | None = None) -> overview.Credits:
    """A month's credits (this UTC month by default) against the lake's budget."""
    location = _location(lake.path)
    today = datetime.now(timezone.utc).date()
    month = month or today.strftime("%Y-%m")
    budget = lake.budget()
    version = _version(location, CREDIT_LEDGER_TABLE)
    key = ("credits", lake.path, month, budget, version, today)  # the projection moves daily
    return _cached(key, lambda: overview.credits(location, month, budget, today))


def plan(lake: Lake) -> list[dict[str, Any]]:
    """Each planned account's tiers: their sizes, how far behind, the tail's next due day."""
    location = _location(lake.path)
    today = datetime.now(timezone.utc).date()
    versions = (_version(location, FETCH_LOG_TABLE), _version(location, TOP_MEDIA_TABLE))
    key = ("plan", lake.path, versions, today)
    return _cached(key, lambda: overview.plan_status(location, today))


def tables(lake: Lake) -> list[dict[str, Any]]:
    """Each table's version, newest commits and last maintenance."""
    location = _location(lake.path)
    versions = tuple(_version(location, spec) for spec in TABLES)
    return _cached(("tables", lake.path, versions), lambda: overview.tables(location))
