"""The lake summaries the page draws, cached until a table they read gets a new version.

A request opens the Delta logs to learn the versions (cheap), and reads data files only when
a run committed since the summary was made, so a page served twice reads the lake once.
"""

from __future__ import annotations

import threading
from collections import OrderedDict
from collections.abc import Callable, Hashable
from datetime import date, datetime, timezone
from typing import Any, TypeVar

from airflow_provider_fansly.plugins import overview
from airflow_provider_fansly.plugins.calendar import Calendar, read_calendar
from airflow_provider_fansly.plugins.lakes import Lake
from airflow_provider_fansly.storage.delta import (
    CREDIT_LEDGER_TABLE,
    FETCH_LOG_TABLE,
    FYP_TAGS_TABLE,
    QUALITY_RESULTS_TABLE,
    TableSpec,
    open_table,
)
from airflow_provider_fansly.storage.location import Location

__all__ = ["calendar", "credits", "quality", "tables", "top_tags"]

T = TypeVar("T")
_SIZE = 8  # a calendar holds a row per media offer and day: keep few
_cache: OrderedDict[Hashable, Any] = OrderedDict()
_lock = threading.Lock()


def _version(location: Location, spec: TableSpec) -> int | None:
    table = open_table(location, spec)
    return None if table is None else table.version()


def _cached(key: Hashable, make: Callable[[], T]) -> T:
    """The value made for ``key``, made once (the key holds the versions it depends on)."""
    with _lock:
        if key in _cache:
            _cache.move_to_end(key)
            return _cache[key]
        value = make()
        _cache[key] = value
        if len(_cache) > _SIZE:
            _cache.popitem(last=False)
        return value


def calendar(lake: Lake, period: int, today: date, first: date) -> Calendar:
    """The coverage calendar of a lake's period, from ``first`` to ``today``."""
    location = Location.parse(lake.path)
    accounts = tuple(sorted((a, ids) for a, ids in (lake.accounts or {}).items()))
    key = (
        "calendar",
        lake.path,
        period,
        today,
        first,
        accounts,
        _version(location, FETCH_LOG_TABLE),
    )
    days = (today - first).days + 1
    return _cached(key, lambda: read_calendar(location, period, today, days, lake.accounts))


def top_tags(lake: Lake, period: int, first: date, last: date) -> list[dict[str, Any]]:
    """Each account's top For-You-page tags in the days ``first`` to ``last``."""
    location = Location.parse(lake.path)
    key = ("tags", lake.path, period, first, last, _version(location, FYP_TAGS_TABLE))
    return _cached(key, lambda: overview.top_tags(location, period, first, last))


def quality(lake: Lake) -> list[dict[str, Any]]:
    """The latest quality run of each period and its history."""
    location = Location.parse(lake.path)
    key = ("quality", lake.path, _version(location, QUALITY_RESULTS_TABLE))
    return _cached(key, lambda: overview.quality(location))


def credits(lake: Lake, month: str | None = None) -> overview.Credits:
    """A month's credits (this UTC month by default) against the lake's budget."""
    location = Location.parse(lake.path)
    month = month or datetime.now(timezone.utc).strftime("%Y-%m")
    budget = lake.budget()
    key = ("credits", lake.path, month, budget, _version(location, CREDIT_LEDGER_TABLE))
    return _cached(key, lambda: overview.credits(location, month, budget))


def tables(lake: Lake) -> list[dict[str, Any]]:
    """Each table's version, newest commits and last maintenance."""
    location = Location.parse(lake.path)
    versions = tuple(_version(location, spec) for spec in overview.TABLES)
    return _cached(("tables", lake.path, versions), lambda: overview.tables(location))
