"""A lake for the page: six weeks up to yesterday with a gap, a gone media offer, a quiet
day, credits spent, and a recorded quality run whose completeness check failed."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.quality import Inputs, resolve_checks, run_checks
from airflow_provider_fansly.quality.lake import LakeView
from airflow_provider_fansly.quality.results import record
from airflow_provider_fansly.storage.delta import FETCH_LOG_TABLE, MEDIA_STATS_TABLE
from airflow_provider_fansly.storage.ledger import reserve, settle
from airflow_provider_fansly.storage.location import Location
from tests.quality.planted import ACCOUNTS, STAT_TYPES, log_row, stat_row, write

DAYS = 42
TODAY = datetime.now(timezone.utc).date()
GAP = ("acct_a", "a2", TODAY - timedelta(days=10))
GONE = [("acct_b", "b1", TODAY - timedelta(days=n)) for n in (1, 2, 3)]
QUIET = ("acct_b", TODAY - timedelta(days=7))
SPENT = 37


def days() -> list[date]:
    return [TODAY - timedelta(days=n) for n in range(DAYS, 0, -1)]


def build(lake: Path) -> None:
    """Write the tables through the provider's own code, as runs would."""
    stats, log = [], []
    for d in days():
        for account, ids in ACCOUNTS.items():
            for media in ids:
                if (account, media, d) == GAP:
                    continue
                if (account, media, d) in GONE:
                    log.append(log_row(account, media, d, status="gone"))
                elif (account, d) == QUIET:
                    log.append({**log_row(account, media, d), "rows": 0})
                else:
                    stats += [stat_row(account, media, d, k) for k in STAT_TYPES]
                    log.append(log_row(account, media, d))
    write(lake, MEDIA_STATS_TABLE, stats)
    write(lake, FETCH_LOG_TABLE, log)
    location = Location.parse(str(lake))
    entry = reserve(location, account_id="acct_a", task="media_stats", run_id="r1",
                    try_number=1, estimate=40, monthly_credits=None)  # fmt: skip
    settle(location, entry, SPENT, 0, "success")
    view = LakeView(location, DAY_MS, TODAY - timedelta(days=28), TODAY)
    checks = resolve_checks(["completeness", "uniqueness"])
    findings = run_checks(checks, Inputs(view, view.expected(), None))
    record(location, findings, run_id="quality__1", checked_at=datetime.now(timezone.utc),
           as_of=TODAY, period=DAY_MS)  # fmt: skip
