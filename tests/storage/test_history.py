"""The fetch log's whole history: who is expected, and each account's first and newest day."""

from __future__ import annotations

from datetime import date
from pathlib import Path

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.storage.delta import FETCH_LOG_TABLE
from airflow_provider_fansly.storage.history import read_history
from airflow_provider_fansly.storage.location import Location
from tests.quality.planted import log_row, write


def test_expected_media_offers_and_days_come_from_all_history(tmp_path: Path) -> None:
    write(
        tmp_path,
        FETCH_LOG_TABLE,
        [
            log_row("acct", "old", date(2025, 1, 10)),  # fetched once, long ago
            log_row("acct", "kept", date(2025, 6, 1)),
            log_row("acct", "kept", date(2026, 3, 1)),
            log_row("acct", "deleted", date(2026, 2, 27), status="gone"),  # gone at first ask
            log_row("acct", "gone_early", date(2025, 3, 1)),
            log_row("acct", "gone_early", date(2025, 3, 2), status="gone"),
            log_row("acct", "late", date(2026, 3, 5)),  # first fetched after the days
            log_row("other", "o1", date(2026, 2, 1)),
            log_row("acct", "hourly", date(2026, 3, 2), period=HOUR_MS),  # another period
        ],
    )
    history = read_history(Location.parse(str(tmp_path)), DAY_MS)
    # judging [02-01, 03-01]: a media offer fetched once a year ago is still expected, one
    # gone at its first request is expected (its gone warning is due), one gone before the
    # days and one first seen after them are not
    assert history.expected(date(2026, 2, 1), date(2026, 3, 1)) == {
        "acct": ["deleted", "kept", "old"],
        "other": ["o1"],
    }
    assert history.first_fetched() == {"acct": date(2025, 1, 10), "other": date(2026, 2, 1)}
    assert history.last_fetched() == {"acct": date(2026, 3, 5), "other": date(2026, 2, 1)}
    assert read_history(Location.parse(str(tmp_path)), HOUR_MS).expected(
        date(2026, 3, 1), date(2026, 3, 3)
    ) == {"acct": ["hourly"]}
