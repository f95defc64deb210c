"""The 429 wait a user sets is the one a task uses, also under an ``execution_timeout``."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path

import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.testing.emulator import Emulator
from tests.conftest import FAST_RETRIES, LogText, connection_json

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z

pytestmark = pytest.mark.usefixtures("airflow_db")


def run_against_a_long_429(
    lake: Path, emu: Emulator, timeout: timedelta, wait: float | None
) -> str:
    """Two media offers, one at a time; the second's answer is a 429 advising 60 s. Returns
    the run's state."""
    emu.add_faults({"kind": "rate_limit", "retry_after": 60, "media": "w2"})
    dag = build_dag(
        media_offer_ids=["w1", "w2"],
        output_path=str(lake),
        after_date=D0,
        before_date=D0 + DAY_MS,
        max_in_flight=1,
        execution_timeout=timeout,
        max_rate_limit_wait=wait,
    )
    return str(dag.test().state)


@pytest.mark.parametrize(
    ("connection_wait", "task_wait", "used"),
    [(5, None, 5), (900, 0, 0), (900, 7, 7)],
    ids=["the-connection's", "the-task's-0", "the-task's-own"],
)
def test_the_wait_set_is_used_under_an_execution_timeout(
    tmp_path: Path,
    emu: Emulator,
    monkeypatch: pytest.MonkeyPatch,
    logs: LogText,
    connection_wait: float,
    task_wait: float | None,
    used: float,
) -> None:
    """A 429 advising 60 s, more than the wait set: the task fails at once naming the wait
    (before, half the timeout replaced the wait set, and the task waited the minute out)."""
    monkeypatch.setenv(
        "AIRFLOW_CONN_FANSLY_DEFAULT",
        connection_json(emu.url, **FAST_RETRIES, max_rate_limit_wait=connection_wait),
    )
    assert run_against_a_long_429(tmp_path, emu, timedelta(hours=1), task_wait) == "failed"
    assert f"max_rate_limit_wait is {used:g} s" in logs()
    assert emu.state.counts["rate_limited"] == 1  # gave up on the first 429
    assert emu.state.counts["requests"] == 2


def test_half_the_execution_timeout_bounds_any_wait(
    tmp_path: Path, emu: Emulator, monkeypatch: pytest.MonkeyPatch, logs: LogText
) -> None:
    monkeypatch.setenv("AIRFLOW_CONN_FANSLY_DEFAULT", connection_json(emu.url, **FAST_RETRIES))
    assert run_against_a_long_429(tmp_path, emu, timedelta(seconds=20), 600) == "failed"
    assert "max_rate_limit_wait is 10 s" in logs()
