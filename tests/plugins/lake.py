"""A lake for the page: six weeks up to yesterday with a gap, a gone media offer, a quiet
day, credits spent, and a recorded quality run whose completeness check failed."""

from __future__ import annotations

from datetime import date, datetime, timedelta, timezone
from pathlib import Path

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.quality import Inputs, resolve_checks, run_checks
from airflow_provider_fansly.quality.lake import LakeView
from airflow_provider_fansly.quality.results import record
from airflow_provider_fansly.storage.delta import (
    FETCH_LOG_TABLE,
    FYP_TAGS_TABLE,
    MEDIA_STATS_TABLE,
    append,
    replace_tags,
)
from airflow_provider_fansly.storage.layout import tags_predicate
from airflow_provider_fansly.storage.ledger import reserve, settle
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.tags import TagRow, fyp_tags_table
from tests.quality.planted import ACCOUNTS, STAT_TYPES, log_row, stat_row, write

DAYS = 42
TODAY = datetime.now(timezone.utc).date()
GAP = ("acct_a", "a2", TODAY - timedelta(days=10))
GONE = [("acct_b", "b1", TODAY - timedelta(days=n)) for n in (1, 2, 3)]
QUIET = ("acct_b", TODAY - timedelta(days=7))
SPENT = 37
#: The tags answers named, per (account, media offer, days ago the window started): id,
#: name, views. a1's window of 3 days ago was fetched twice: the later answer counts.
TAGS = {
    ("acct_a", "a1", 3): [("9001", "cosplay", 40), ("9002", "gaming", 10)],
    ("acct_a", "a2", 3): [("9002", "gaming", 35)],
    ("acct_b", "b2", 2): [("9003", "travel", 7)],
    ("acct_a", "a1", 60): [("9004", "old", 999)],  # before the days on screen
}


def days() -> list[date]:
    return [TODAY - timedelta(days=n) for n in range(DAYS, 0, -1)]


def write_tags(location: Location) -> None:
    """The fyp_tags of TAGS as tasks commit them, and an older answer of a1's window."""
    day = 86_400_000
    for (account, media, ago), tags in TAGS.items():
        start = int(datetime.combine(TODAY - timedelta(days=ago), datetime.min.time(),
                                     timezone.utc).timestamp() * 1000)  # fmt: skip
        for fetched, scale in ((start + 2 * day, 1), (start + day, 100)):  # newer, older
            rows = [TagRow(media, start, start + day, tag, name, views * scale, 0, 0, 0, fetched)
                    for tag, name, views in tags]  # fmt: skip
            if scale == 100 and media != "a1":
                continue
            table = fyp_tags_table(account, DAY_MS, (start, start + day), rows)
            predicate = tags_predicate(account, [media], DAY_MS, start, start + day)
            if scale == 1:
                replace_tags(location, table, predicate)
            else:
                append(location, FYP_TAGS_TABLE, table)  # another run's answer, older


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
                    log.append(log_row(account, media, d, rows=0))
                else:
                    stats += [stat_row(account, media, d, k) for k in STAT_TYPES]
                    log.append(log_row(account, media, d))
    write(lake, MEDIA_STATS_TABLE, stats)
    write_tags(Location.parse(str(lake)))
    write(lake, FETCH_LOG_TABLE, log)
    location = Location.parse(str(lake))
    entry = reserve(location, account_id="acct_a", task="media_stats", run_id="r1",
                    try_number=1, estimate=40, monthly_credits=None)  # fmt: skip
    settle(location, entry, SPENT, 0, "success")
    view = LakeView(location, DAY_MS, TODAY - timedelta(days=28), TODAY)
    checks = resolve_checks(["completeness", "uniqueness"])
    findings = run_checks(checks, Inputs(view, view.expected(), None))
    record(location, findings, run_id="quality__1", checked_at=datetime.now(timezone.utc),
           as_of=TODAY, period=DAY_MS, scope=view.judged)  # fmt: skip
