"""Window arithmetic: splitting, checking, and date conversion."""

from __future__ import annotations

import itertools
from datetime import datetime, timedelta, timezone

import pytest

from airflow_provider_fansly.client.windows import (
    DAY_MS,
    HOUR_MS,
    check_window,
    request_count,
    split_window,
    to_epoch_ms,
)

D0 = 1_771_200_000_000  # 2026-02-16T00:00Z


@pytest.mark.parametrize(
    ("buckets", "period", "requests"),
    [
        (1, DAY_MS, 1),
        (99, DAY_MS, 1),
        (100, DAY_MS, 2),
        (240, HOUR_MS, 3),
        (720, HOUR_MS, 8),
        (365, DAY_MS, 4),
    ],
    ids=["one", "99-fit", "100-spills", "240h", "30d-hourly", "year-daily"],
)
def test_split_is_minimal_contiguous_and_under_the_cap(
    buckets: int, period: int, requests: int
) -> None:
    after, before = D0, D0 + buckets * period
    chunks = split_window(after, before, period)
    assert len(chunks) == requests == request_count(after, before, period)
    assert chunks[0][0] == after and chunks[-1][1] == before
    assert all(a[1] == b[0] for a, b in itertools.pairwise(chunks))
    # each answer also carries the bucket at beforeDate: at most 100 buckets per answer
    assert all((hi - lo) // period + 1 <= 100 for lo, hi in chunks)


@pytest.mark.parametrize(
    ("after", "before", "period", "message"),
    [
        (D0, D0, DAY_MS, "empty"),
        (D0 + DAY_MS, D0, DAY_MS, "inverted"),
        (D0, D0 + DAY_MS, 0, "positive"),
        (D0 + 1, D0 + DAY_MS, DAY_MS, "not on the"),
        (D0, D0 + HOUR_MS, DAY_MS, "not on the"),
    ],
    ids=["empty", "inverted", "zero-period", "after-off-grid", "before-off-grid"],
)
def test_impossible_windows_are_refused(after: int, before: int, period: int, message: str) -> None:
    with pytest.raises(ValueError, match=message):
        check_window(after, before, period)


@pytest.mark.parametrize(
    "value",
    [
        D0,
        str(D0),
        "2026-02-16T00:00:00Z",
        "2026-02-16T01:00:00+01:00",
        datetime(2026, 2, 16, tzinfo=timezone.utc),
        datetime(2026, 2, 16, 2, tzinfo=timezone(timedelta(hours=2))),
    ],
    ids=["int", "digits", "iso-z", "iso-offset", "aware", "aware-offset"],
)
def test_to_epoch_ms_accepts_every_documented_form(value: object) -> None:
    assert to_epoch_ms(value) == D0  # type: ignore[arg-type]


@pytest.mark.parametrize(
    "value",
    [datetime(2026, 2, 16), "yesterday", True, None],
    ids=["naive", "words", "bool", "none"],
)
def test_to_epoch_ms_refuses_ambiguous_dates(value: object) -> None:
    with pytest.raises(ValueError):
        to_epoch_ms(value)  # type: ignore[arg-type]
