"""The planned DAG through dag.test() on a catalogue account of the emulator: new posts are
found and fetched without anyone listing them, their first 72 hours land hourly, and a media
offer out of every top list is not asked for in between and is fetched once its newest day is
28 days old, in one request; all exact. (That it is not due at 27 days is the planner's unit
test's.)"""

from __future__ import annotations

import json
from datetime import date, timedelta
from pathlib import Path

import pendulum
import pytest
from airflow.dag_processing.dagbag import DagBag

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS, day_bounds
from airflow_provider_fansly.testing.catalogue import START_MS, Catalogue
from airflow_provider_fansly.testing.emulator import Emulator
from airflow_provider_fansly.testing.emulator.answers import profile_dataset
from tests.conftest import ROOT
from tests.lake import lake_rows, table, truth

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")
ACCOUNT = "catalogue-60-1"
CATALOGUE = Catalogue.of(ACCOUNT)
DAY0 = date(2026, 1, 1)
assert CATALOGUE is not None and day_bounds(DAY0)[0] == START_MS


def day(n: int) -> date:
    return DAY0 + timedelta(days=n)


def listed_on(n: int) -> set[str]:
    """The media offers the account's top lists name on day ``n`` (the emulator's answer)."""
    start = day_bounds(day(n))[0]
    data = profile_dataset(ACCOUNT, start, start + DAY_MS, DAY_MS)["dataset"]
    return {r["mediaOfferId"] for r in data["topMediaOffers"] + data["topFypMediaOffers"]}


def run(n: int) -> str:
    """Plan and fetch day ``n``: a manual run at D gets the interval that ends at D."""
    dag = DagBag(dag_folder=str(ROOT / "dags")).get_dag("fansly_media_stats_planned")
    d = day(n + 1)
    return dag.test(logical_date=pendulum.datetime(d.year, d.month, d.day, tz="UTC")).state


def fetched_days(lake: Path, media: str, period: int = DAY_MS) -> set[date]:
    rows = table(lake, "fetch_log").to_pylist()
    return {
        r["dt"] for r in rows
        if r["media_offer_id"] == media and r["period_ms"] == period and r["status"] == "fetched"
    }  # fmt: skip


def test_a_new_post_is_found_its_launch_lands_hourly_and_the_tail_waits_28_days(
    tmp_path: Path, fansly_conn: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    ever_listed = set().union(*(listed_on(n) for n in (2, 3, 5, 30)))
    unlisted = sorted(set(CATALOGUE.media_offer_ids(START_MS)) - ever_listed)  # type: ignore[union-attr]
    new = f"m{60 + 3}"  # posted on day 3
    assert unlisted and new in listed_on(3)  # the catalogue's numbers make both cases
    by_hand = unlisted[0]
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_ACCOUNTS", json.dumps({ACCOUNT: [by_hand]}))
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_OUTPUT_PATH", str(tmp_path))
    monkeypatch.setenv("FANSLY_START_DATE", day(-5).isoformat())  # history from there on

    assert run(2) == "success"
    assert day(2) in fetched_days(tmp_path, by_hand)  # listed by hand: its history
    assert run(3) == "success"
    assert fetched_days(tmp_path, new) == {day(3)}  # found by the day-3 run, nobody listed it
    assert run(5) == "success"  # its 72 hours are over at the end of day 5
    launch = day_bounds(day(3))[0]
    hourly = [r for r in lake_rows(tmp_path, HOUR_MS) if r[0] == new]
    assert hourly == truth(ACCOUNT, [new], launch, launch + 72 * HOUR_MS, HOUR_MS)

    requests = fansly_conn.state.counts["served"]
    asked = [e for e in fansly_conn.state.log if e.get("media") == by_hand]
    assert asked and max(e["before"] for e in asked) == day_bounds(day(2))[1]  # not since
    assert run(30) == "success"  # 28 days after its last fetch: one request covers them all
    tail = [e for e in fansly_conn.state.log if e.get("media") == by_hand][len(asked) :]
    assert [(e["after"], e["before"]) for e in tail] == [
        (day_bounds(day(3))[0], day_bounds(day(30))[1])
    ]
    mine = [r for r in lake_rows(tmp_path, DAY_MS) if r[0] == by_hand]
    assert mine == truth(ACCOUNT, [by_hand], *_fetched_span(tmp_path, by_hand))
    assert fansly_conn.state.counts["served"] > requests
    ledger = table(tmp_path, "credit_ledger").to_pylist()
    assert {r["tier"] for r in ledger} >= {"discovery", "fresh", "launch", "tail", "history"}


def _fetched_span(lake: Path, media: str) -> tuple[int, int, int]:
    days = sorted(fetched_days(lake, media))
    return day_bounds(days[0])[0], day_bounds(days[-1])[1], DAY_MS
