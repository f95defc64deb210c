"""The credit ledger: every try's requests recorded, failed ones too; the monthly budget holds."""

from __future__ import annotations

import multiprocessing
import time
import uuid
from concurrent.futures import ProcessPoolExecutor
from datetime import datetime, timedelta, timezone
from pathlib import Path
from typing import Any

import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.cli import main as fansly_lake
from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.credits import backfill_cost, credits_spent
from airflow_provider_fansly.exceptions import FanslyBudgetExceededError
from airflow_provider_fansly.storage.ledger import Reservation, month_of, reserve, settle
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.testing.emulator import Emulator
from tests.conftest import FAST_RETRIES, LogText, connection_json
from tests.lake import snapshot, table

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["c1", "c2", "c3"]

pytestmark = pytest.mark.usefixtures("airflow_db")


@pytest.fixture
def budget(emu: Emulator, monkeypatch: pytest.MonkeyPatch) -> Emulator:
    """``fansly_default`` with a monthly plan of 10 credits."""
    conn = connection_json(emu.url, monthly_credits=10, **FAST_RETRIES)
    monkeypatch.setenv("AIRFLOW_CONN_FANSLY_DEFAULT", conn)
    return emu


def run(lake: Path, days: int, **kwargs: object) -> object:
    window = {"after_date": D0, "before_date": D0 + days * DAY_MS}
    return build_dag(media_offer_ids=IDS, output_path=str(lake), **window, **kwargs).test()


def test_a_run_over_the_monthly_budget_is_refused_before_any_request(
    tmp_path: Path, budget: Emulator, logs: LogText
) -> None:
    assert run(tmp_path, 3).state == "success"  # 3 credits
    assert credits_spent(str(tmp_path)) == 3 == budget.state.counts["requests"]
    before = snapshot(tmp_path)
    dr = run(tmp_path, 300, retries=2, retry_delay=timedelta(0))  # 3 x 4 = 12 > 7 left
    assert dr.state == "failed"
    assert dr.get_task_instances()[0].try_number == 1  # not retried: the month will not change
    assert budget.state.counts["requests"] == 3  # nothing sent
    text = logs()
    assert "needs 12 request(s)" in text and "has 7 left" in text and "3 spent or reserved" in text
    assert credits_spent(str(tmp_path)) == 3  # the refused reservation was released

    assert snapshot(tmp_path) == before


def test_failed_tries_are_in_the_ledger_with_every_send(
    tmp_path: Path, fansly_conn: Emulator
) -> None:
    fansly_conn.add_faults({"kind": "server_error", "media": "c2", "times": 4})  # try 1 fails
    dr = run(tmp_path, 3, retries=1, retry_delay=timedelta(0))
    assert dr.state == "success"
    ledger = [r for r in table(tmp_path, "credit_ledger").to_pylist() if r["kind"] == "spent"]
    assert sorted((r["try_number"], r["outcome"]) for r in ledger) == [
        (1, "failed"),
        (2, "success"),
    ]
    assert sum(r["requests"] for r in ledger) == fansly_conn.state.counts["requests"]
    assert credits_spent(str(tmp_path)) == fansly_conn.state.counts["requests"]


_BARRIER: Any = None


def _keep_barrier(barrier: Any) -> None:
    global _BARRIER
    _BARRIER = barrier


def _check_then_append(location: Location, **asked: Any) -> None:
    """A deliberately non-atomic reservation: read what is spent, then append. Tasks starting
    together all read before any appends, so all pass: the race the ledger must not have."""
    spent = credits_spent(location.output_path)
    time.sleep(0.5)
    if spent + asked["estimate"] > asked["monthly_credits"]:
        raise FanslyBudgetExceededError("over budget")
    reservation = Reservation(uuid.uuid4().hex, month_of(datetime.now(timezone.utc)), *(
        asked[k] for k in ("account_id", "task", "run_id", "try_number", "estimate")
    ))  # fmt: skip
    settle(location, reservation, asked["estimate"], 0, "")


def _reserve_at_once(lake: str, naive: bool) -> bool:
    """Wait for the other processes, then reserve 4 of a budget of 10."""
    _BARRIER.wait(timeout=120)
    try:
        (_check_then_append if naive else reserve)(
            Location.parse(lake),
            account_id="a",
            task="t",
            run_id="r",
            try_number=1,
            estimate=4,
            monthly_credits=10,
        )
    except FanslyBudgetExceededError:
        return False
    return True


@pytest.mark.parametrize("naive", [False, True], ids=["the-ledger", "check-then-append"])
def test_tasks_starting_together_cannot_all_pass_the_same_check(
    tmp_path: Path, naive: bool
) -> None:
    """Four processes released by one barrier reserve 4 credits each of 10: two fit. The
    check-then-append variant shows the test sees the race when there is one."""
    ctx = multiprocessing.get_context("spawn")
    barrier = ctx.Barrier(4)
    with ProcessPoolExecutor(
        4, mp_context=ctx, initializer=_keep_barrier, initargs=(barrier,)
    ) as pool:
        passed = list(pool.map(_reserve_at_once, [str(tmp_path)] * 4, [naive] * 4))
    if naive:
        assert passed.count(True) > 2  # the race: more pass than the budget holds
        return
    assert sorted(passed) == [False, False, True, True]  # 2 x 4 fit in 10, a third does not
    assert credits_spent(str(tmp_path)) == 8


def test_the_cost_of_a_backfill_is_previewed_against_what_is_left(
    tmp_path: Path, fansly_conn: Emulator, capsys: pytest.CaptureFixture[str]
) -> None:
    assert run(tmp_path, 2).state == "success"  # 3 spent
    cost = backfill_cost(
        str(tmp_path), start="2026-01-01", end="2026-04-01", media_offers=50, monthly_credits=4000
    )
    assert (cost.runs, cost.requests, cost.spent_this_month, cost.left) == (90, 4500, 3, 3997)
    args = ["cost", str(tmp_path), "--start", "2026-01-01", "--end", "2026-04-01"]
    assert fansly_lake([*args, "--media-offers", "50", "--monthly-credits", "4000"]) == 2
    assert "does NOT fit" in capsys.readouterr().out
    assert fansly_lake([*args, "--media-offers", "10", "--monthly-credits", "4000"]) == 0
    assert "the backfill fits" in capsys.readouterr().out


def test_the_cost_preview_refuses_bad_arguments_by_name(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    with pytest.raises(SystemExit):
        fansly_lake(
            ["cost", str(tmp_path), "--start", "jan", "--end", "2026-02-01", "--media-offers", "3"]
        )
    assert "'jan' is not a day (YYYY-MM-DD)" in capsys.readouterr().err
    with pytest.raises(SystemExit):
        fansly_lake(["credits", str(tmp_path), "--month", "2026-13"])
    assert "'2026-13' is not a month (YYYY-MM)" in capsys.readouterr().err
    with pytest.raises(ValueError, match="start before end"):
        backfill_cost(str(tmp_path), start="2026-02-01", end="2026-01-01", media_offers=3)
