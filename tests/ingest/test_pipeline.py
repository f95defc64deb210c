"""One task's run as a function, without Airflow: a client, a lake and a spec in, a summary
out, against the emulator over loopback."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from airflow_provider_fansly.client.fansly import FanslyClient
from airflow_provider_fansly.client.settings import ClientSettings
from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS, request_count
from airflow_provider_fansly.exceptions import (
    FanslyBudgetExceededError,
    FanslyServerError,
)
from airflow_provider_fansly.ingest.pipeline import TaskSpec, run_task
from airflow_provider_fansly.storage.ledger import month_spend
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.rules import rows_schema, rules
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY, Emulator
from tests.conftest import FAST_RETRIES
from tests.lake import lake_rows, snapshot, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ("p1", "p2", "p3")


def client(emu: Emulator, **extra: object) -> FanslyClient:
    """A client of the emulator, as a hook would make it from a connection."""
    return FanslyClient(
        ClientSettings.from_connection(emu.url, DEFAULT_KEY, {**FAST_RETRIES, **extra})
    )


def spec(days: int = 5, period: int = DAY_MS, try_number: int = 1, **kwargs: object) -> TaskSpec:
    return TaskSpec(
        account_id=DEFAULT_ACCOUNT,
        media_offer_ids=kwargs.pop("ids", IDS),  # type: ignore[arg-type]
        window=(D0, D0 + days * DAY_MS),
        period=period,
        run_id="run-1",
        try_number=try_number,
        task="test.fetch",
        **kwargs,  # type: ignore[arg-type]
    )


def test_a_task_lands_exactly_and_its_spend_is_recorded(tmp_path: Path, emu: Emulator) -> None:
    location = Location.parse(str(tmp_path))
    summary = run_task(client(emu), location, spec())
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, list(IDS), D0, D0 + 5 * DAY_MS, DAY_MS)
    assert summary.requests == summary.estimated_requests == 3 == emu.state.counts["requests"]
    assert summary.table_version == 1 and summary.rows == len(lake_rows(tmp_path))
    assert month_spend(location) == summary.requests  # the ledger settled what was sent


def test_a_run_over_its_budget_sends_nothing_and_writes_nothing(
    tmp_path: Path, emu: Emulator
) -> None:
    with pytest.raises(FanslyBudgetExceededError, match="max_requests is 2; nothing was sent"):
        run_task(client(emu, max_requests=2), Location.parse(str(tmp_path)), spec())
    assert emu.state.counts["requests"] == 0
    assert not (tmp_path / "media_stats").exists()


def test_a_gone_media_offer_is_recorded_and_the_others_land(tmp_path: Path, emu: Emulator) -> None:
    ids = ("p1", "deleted-media", "p2")
    summary = run_task(client(emu), Location.parse(str(tmp_path)), spec(ids=ids))
    assert summary.gone == ["deleted-media"]
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, ["p1", "p2"], D0, D0 + 5 * DAY_MS, DAY_MS)


def test_invalid_rows_are_quarantined_when_asked(tmp_path: Path, emu: Emulator) -> None:
    emu.add_faults({"kind": "negative_counts", "media": "p2"})
    summary = run_task(client(emu), Location.parse(str(tmp_path)), spec(on_invalid="quarantine"))
    assert list(summary.invalid) == ["p2"] and "p2" in summary.invalid["p2"]
    assert "nothing was published" not in summary.invalid["p2"]  # the others were
    named = rules(rows_schema(0, DAY_MS, DAY_MS))  # the rules, as lineage names them
    broken = summary.invalid_rules["p2"]
    assert list(summary.invalid_rules) == ["p2"] and set(broken) <= set(named)
    assert any(rule.startswith("counts >= 0") for rule in broken)
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, ["p1", "p3"], D0, D0 + 5 * DAY_MS, DAY_MS)


def test_a_retry_buys_only_what_the_failed_try_did_not_stage(tmp_path: Path, emu: Emulator) -> None:
    """Hourly over 12 days: 3 requests per media offer; the API fails from the 7th on."""
    location = Location.parse(str(tmp_path))
    hourly = spec(days=12, period=HOUR_MS, max_in_flight=1)
    needed = len(IDS) * request_count(D0, D0 + 12 * DAY_MS, HOUR_MS)
    emu.add_faults({"kind": "server_error", "after": 6, "times": 10_000})
    before = snapshot(tmp_path)
    with pytest.raises(FanslyServerError):
        run_task(client(emu), location, hourly)
    assert snapshot(tmp_path) == before  # nothing committed
    emu.state.clear_faults()
    sent = emu.state.counts["requests"]
    summary = run_task(client(emu), location, replace(hourly, try_number=2))
    assert summary.reused_requests == 6
    assert emu.state.counts["requests"] - sent == needed - 6 == summary.requests
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, list(IDS), D0, D0 + 12 * DAY_MS, HOUR_MS)


def test_an_answer_cut_to_fewer_buckets_is_asked_again_for_the_rest(
    tmp_path: Path, emu: Emulator
) -> None:
    """An API that caps answers below 100 buckets: the client notices the cut and asks for
    the dropped part; the lake ends exact."""
    emu.config.datapoint_limit = 40
    summary = run_task(client(emu), Location.parse(str(tmp_path)), spec(days=90, ids=("p1",)))
    assert summary.cut_answers >= 1 and summary.datapoint_limit == 40
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, ["p1"], D0, D0 + 90 * DAY_MS, DAY_MS)


def test_a_commit_that_meets_another_over_its_rows_is_planned_again(
    tmp_path: Path, emu: Emulator, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Between this task's plan of what to replace and its commit, another task commits the
    same rows (a re-cut batch): the commit conflicts once, is planned again against the new
    snapshot, and the lake ends with every row once; nothing is fetched again."""
    from airflow_provider_fansly.storage import replace

    location = Location.parse(str(tmp_path))
    run_task(client(emu), location, spec(ids=("p1",)))
    plan, raced = replace.replaced, []

    def racing(*args: object) -> object:
        planned = plan(*args)  # type: ignore[arg-type]
        if not raced:  # the other task commits after this plan, once
            raced.append(None)
            raced[0] = run_task(client(emu), location, spec(ids=("p1",), try_number=7))
        return planned

    monkeypatch.setattr(replace, "replaced", racing)
    sent = emu.state.counts["requests"]
    summary = run_task(client(emu), location, spec(ids=("p1", "p2")))
    assert summary.commit_conflicts == 1 and raced[0] is not None
    assert raced[0].commit_conflicts == 0
    assert emu.state.counts["requests"] - sent == 2 + 1  # each task's own requests, once
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, ["p1", "p2"], D0, D0 + 5 * DAY_MS, DAY_MS)
