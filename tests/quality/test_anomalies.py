"""The emulator's anomaly modes, fetched through the operator, make their checks fire.

Media offers named ``zero-``, ``spike-`` and ``split-`` break on anomaly days (every 20th
UTC day; 2026-01-10 is one); ``restated-`` ones come 30% low while young. Each account holds
one mode, so each finding is the mode's own.
"""

from __future__ import annotations

from datetime import date, datetime, timezone
from pathlib import Path

import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.quality import Inputs, resolve_checks, run_checks
from airflow_provider_fansly.quality.lake import LakeView
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from airflow_provider_fansly.testing.synthetic import anomaly_day

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")

FIRST, AS_OF, ANOMALY = date(2025, 12, 20), date(2026, 1, 14), date(2026, 1, 10)
EXPECTED = {
    DEFAULT_ACCOUNT: ["zero-1", "zero-2"],
    "fansly_agency_2": ["spike-1", "b-1", "b-2"],
    "fansly_agency_3": ["split-2", "c-1", "c-2"],
    "fansly_agency_4": ["restated-1"],
}


def ms(day: date) -> int:
    return int(datetime(day.year, day.month, day.day, tzinfo=timezone.utc).timestamp() * 1000)


def fetch(
    lake: Path, account: str, ids: list[str], after: date, before: date, period: int = DAY_MS
) -> None:
    dag = build_dag(
        account_id=account, media_offer_ids=ids, output_path=str(lake),
        after_date=ms(after), before_date=ms(before), period=period,
    )  # fmt: skip
    assert dag.test().state == "success"


def test_each_anomaly_mode_fires_its_own_check(tmp_path: Path, fansly_conn: Emulator) -> None:
    assert anomaly_day(ms(ANOMALY))
    fansly_conn.config.accounts = list(EXPECTED)
    for account, ids in EXPECTED.items():
        if account != "fansly_agency_4":
            fetch(tmp_path, account, ids, FIRST, AS_OF)
    fetch(tmp_path, "fansly_agency_3", ["split-2"], ANOMALY, date(2026, 1, 11), HOUR_MS)
    # restated-1: fetched while 2026-01-05..07 were young, then again once they were old
    fansly_conn.config.clock_ms = ms(date(2026, 1, 8))
    fetch(tmp_path, "fansly_agency_4", ["restated-1"], FIRST, AS_OF)
    fansly_conn.config.clock_ms = ms(date(2026, 2, 1))
    fetch(tmp_path, "fansly_agency_4", ["restated-1"], date(2026, 1, 4), date(2026, 1, 8))

    view = LakeView(Location.parse(str(tmp_path)), DAY_MS, date(2025, 12, 17), AS_OF)
    findings = run_checks(resolve_checks(None), Inputs(view, EXPECTED, None))
    found = sorted(
        (f.check_id, f.account_id, f.media_offer_id, f.day)
        for f in findings if f.status != "passed"
    )  # fmt: skip
    assert found == [
        ("hourly_vs_daily", "fansly_agency_3", "split-2", ANOMALY),
        ("restatement", "fansly_agency_4", "restated-1", date(2026, 1, 5)),
        ("restatement", "fansly_agency_4", "restated-1", date(2026, 1, 6)),
        ("restatement", "fansly_agency_4", "restated-1", date(2026, 1, 7)),
        ("volume_anomaly", "fansly_agency_2", None, ANOMALY),
        ("volume_anomaly", DEFAULT_ACCOUNT, None, ANOMALY),
    ]
    messages = {f.account_id: f.message for f in findings if f.check_id == "volume_anomaly"}
    assert messages[DEFAULT_ACCOUNT].startswith("drop: views 0")
    assert messages["fansly_agency_2"].startswith("spike: views")
