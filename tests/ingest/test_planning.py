"""An account's planned day without Airflow: discovery against the emulator over HTTP, its
answer in the lake and the ledger, and a budget too small for the fresh tier said up front."""

from __future__ import annotations

import logging
from datetime import date
from pathlib import Path

import pytest

from airflow_provider_fansly.client.fansly import FanslyClient
from airflow_provider_fansly.client.settings import ClientSettings
from airflow_provider_fansly.client.windows import DAY_MS, day_bounds
from airflow_provider_fansly.ingest.pipeline import TaskSpec, run_task
from airflow_provider_fansly.ingest.planning import plan_day
from airflow_provider_fansly.storage.discovery import read_discovered
from airflow_provider_fansly.storage.ledger import month_spend
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.testing.emulator import DEFAULT_KEY, Emulator
from tests.conftest import FAST_RETRIES
from tests.lake import table

ACCOUNT = "catalogue-200-2"
DAY = date(2026, 1, 11)


def client(emu: Emulator, **extra: object) -> FanslyClient:
    return FanslyClient(
        ClientSettings.from_connection(emu.url, DEFAULT_KEY, {**FAST_RETRIES, **extra})
    )


def test_discovery_lands_in_the_lake_and_the_ledger_and_names_new_posts(
    tmp_path: Path, emu: Emulator
) -> None:
    location = Location.parse(str(tmp_path))
    planned = plan_day(client(emu), location, ACCOUNT, [], DAY, task="t.plan", run_id="r1")
    assert emu.state.counts["requests"] == 1  # the discovery alone: nothing fetched yet
    again = plan_day(client(emu), location, ACCOUNT, [], DAY, task="t.plan", run_id="r1")
    assert emu.state.counts["requests"] == 1  # a retry reuses the day's discovery
    assert again.plan.fetches == planned.plan.fetches
    found = read_discovered(location, ACCOUNT, DAY, DAY)
    assert len(found.ranks) == planned.discovered == len(found.media_offer_ids)
    assert min(found.ranks.values()) == 1
    ledger = table(tmp_path, "credit_ledger").to_pylist()
    assert {(r["kind"], r["tier"], r["requests"]) for r in ledger} == {
        ("reserved", "discovery", 1),
        ("spent", "discovery", 1),
    }
    offers = {r["media_offer_id"]: r for r in table(tmp_path, "media_offers").to_pylist()}
    assert set(offers) == set(found.ranks)  # the media behind the listed offers
    assert {r["found_by"] for r in offers.values()} == {"discovery"}
    first = {m: r["first_found_at"] for m, r in offers.items()}
    assert all(r["created_at"] is not None for r in offers.values())
    # a fetch of one of them, and of one no list named: the first finding is kept
    listed = sorted(found.ranks)[0]
    unlisted = next(f"m{i}" for i in range(200) if f"m{i}" not in found.ranks)
    window = (day_bounds(DAY)[0], day_bounds(DAY)[1])
    spec = TaskSpec(ACCOUNT, (listed, unlisted), window, DAY_MS, "r2", 1, "t.fetch")
    run_task(client(emu), location, spec)
    again = {r["media_offer_id"]: r for r in table(tmp_path, "media_offers").to_pylist()}
    assert (again[listed]["found_by"], again[listed]["first_found_at"]) == (
        "discovery",
        first[listed],
    )
    assert again[unlisted]["found_by"] == "fetched"
    fresh = {f.media_offer_id for f in planned.plan.fetches if f.tier == "fresh"}
    posted_today = {f"m{200 + 10 * 2}", f"m{200 + 10 * 2 + 1}"}
    assert posted_today & set(found.ranks) <= fresh  # a new post found is fresh at once


def test_a_budget_below_the_fresh_tier_is_said_first_and_serves_the_best_ranked(
    tmp_path: Path, emu: Emulator, caplog: pytest.LogCaptureFixture
) -> None:
    location = Location.parse(str(tmp_path))
    small = client(emu, monthly_credits=40)  # a day's share of the month is a request or two
    with caplog.at_level(logging.WARNING):
        planned = plan_day(small, location, ACCOUNT, [], DAY, task="t.plan", run_id="r1")
    warned = [
        r.getMessage() for r in caplog.records if "does not cover the fresh tier" in r.message
    ]
    assert len(warned) == 1 and str(planned.plan.needed["fresh"]) in warned[0]
    plan = planned.plan
    assert plan.allowance is not None and plan.requests <= plan.allowance
    assert plan.deferred["fresh"] > 0 and month_spend(location) == 1
    ranks = read_discovered(location, ACCOUNT, DAY, DAY).ranks
    served = [ranks[f.media_offer_id] for f in plan.fetches if f.tier == "fresh"]
    waiting = [
        r for m, r in ranks.items() if r <= 20 and m not in {f.media_offer_id for f in plan.fetches}
    ]
    assert served and max(served) <= min(waiting)  # the best ranked first
