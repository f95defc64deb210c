"""Pure window arithmetic: half-open ``[after, before)`` windows in UTC epoch milliseconds.

An answer carries at most 100 buckets (``datapointLimit``) and always includes the bucket that
starts *at* ``beforeDate``, which lies outside the window; so one request can safely carry 99
buckets of a window, and a window of W buckets costs ``ceil(W / 99)`` requests.
"""

from __future__ import annotations

import calendar
from datetime import date, datetime, timedelta, timezone

__all__ = [
    "DATAPOINT_LIMIT",
    "DAY_MS",
    "HOUR_MS",
    "MAX_BUCKETS_PER_REQUEST",
    "Window",
    "check_window",
    "day_bounds",
    "day_of",
    "day_spans",
    "days_of",
    "iso_utc",
    "request_count",
    "split_window",
    "to_epoch_ms",
]

DAY_MS = 86_400_000
HOUR_MS = 3_600_000
DATAPOINT_LIMIT = 100
MAX_BUCKETS_PER_REQUEST = DATAPOINT_LIMIT - 1

Window = tuple[int, int]


def iso_utc(ms: int) -> str:
    """Render epoch ms as an ISO-8601 UTC timestamp (for messages and logs)."""
    return datetime.fromtimestamp(ms / 1000, tz=timezone.utc).isoformat()


def check_window(after: int, before: int, period: int) -> None:
    """Raise ``ValueError`` naming the fix unless the window is non-empty and on the period grid."""
    if period <= 0:
        raise ValueError(f"period must be a positive number of milliseconds, got {period}")
    if before == after:
        raise ValueError(
            f"the window [{iso_utc(after)}, {iso_utc(before)}) is empty. Airflow 3 gives empty "
            "data intervals to runs of plain cron schedules (CronTriggerTimetable, "
            "schedule='@daily'): use a timetable with real intervals "
            "(CronDataIntervalTimetable) or pass after_date and before_date"
        )
    if before < after:
        raise ValueError(
            f"the window is inverted: after {iso_utc(after)} is later than before {iso_utc(before)}"
        )
    for name, edge in (("after", after), ("before", before)):
        if edge % period:
            raise ValueError(
                f"window edge {name}={iso_utc(edge)} is not on the {period} ms grid in UTC; "
                f"buckets start at UTC multiples of the period (for days: UTC midnight)"
            )


def split_window(
    after: int, before: int, period: int, max_buckets: int = MAX_BUCKETS_PER_REQUEST
) -> list[Window]:
    """Split a checked window into the fewest request windows, oldest first."""
    step = max_buckets * period
    return [(start, min(start + step, before)) for start in range(after, before, step)]


def request_count(
    after: int, before: int, period: int, max_buckets: int = MAX_BUCKETS_PER_REQUEST
) -> int:
    """Return how many requests one media offer costs for this window."""
    buckets = (before - after) // period
    return -(-buckets // max_buckets)


def to_epoch_ms(value: int | float | str | datetime, what: str = "date") -> int:
    """Convert epoch ms, an aware datetime or an ISO-8601 string to UTC epoch milliseconds."""
    if isinstance(value, bool):
        raise ValueError(f"{what} must be epoch ms, an aware datetime or ISO-8601, got {value!r}")
    if isinstance(value, (int, float)):
        return int(value)
    if isinstance(value, str):
        text = value.strip()
        if text.lstrip("-").isdigit():
            return int(text)
        try:
            value = datetime.fromisoformat(text.replace("Z", "+00:00"))
        except ValueError:
            raise ValueError(f"{what} {text!r} is neither epoch ms nor ISO-8601") from None
    if isinstance(value, datetime):
        if value.tzinfo is None or value.utcoffset() is None:
            raise ValueError(f"{what} {value.isoformat()} has no time zone; give it one (UTC)")
        return calendar.timegm(value.utctimetuple()) * 1000 + value.microsecond // 1000
    raise ValueError(f"{what} must be epoch ms, an aware datetime or ISO-8601, got {value!r}")


def day_of(ms: int) -> date:
    """Return the UTC date of an epoch-ms instant."""
    return datetime.fromtimestamp(ms // 1000, tz=timezone.utc).date()


def day_bounds(day: date) -> tuple[int, int]:
    """Return ``[start, end)`` of a UTC day in epoch ms."""
    start = int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)
    return start, start + DAY_MS


def day_spans(first: date, last: date, days: int) -> list[tuple[date, date]]:
    """Cut the days ``[first, last]`` into spans of ``days`` days (the last one shorter), for
    work that holds a span at a time."""
    spans, start = [], first
    while start <= last:
        end = min(start + timedelta(days=days - 1), last)
        spans.append((start, end))
        start = end + timedelta(days=1)
    return spans


def days_of(after: int, before: int) -> list[date]:
    """Return every UTC day that ``[after, before)`` touches, oldest first."""
    first = after - after % DAY_MS
    return [day_of(ms) for ms in range(first, before, DAY_MS)]
