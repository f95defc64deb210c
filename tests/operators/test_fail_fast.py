"""Failures no retry can change end the task at once; passing ones keep Airflow's retries."""

from __future__ import annotations

from datetime import timedelta
from pathlib import Path
from typing import Any

import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.testing.emulator import Emulator
from tests.conftest import LogText

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["f1", "f2", "f3"]
WINDOW = {"after_date": D0, "before_date": D0 + 3 * DAY_MS}
RETRIES = {"retries": 2, "retry_delay": timedelta(seconds=0)}

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")

# (fault for media f2, operator arguments, requests of the one try, what the log says)
PERMANENT: list[tuple[str, dict[str, Any] | None, dict[str, Any], int, str]] = [
    ("bad-key-401", {"kind": "status", "status": 401}, {}, 3, "the API key is missing or invalid"),
    ("credits-402", {"kind": "status", "status": 402}, {}, 3, "credits are used up"),
    ("refused-400", {"kind": "status", "status": 400}, {}, 3, "rejected the request parameters"),
    ("invalid-data", {"kind": "negative_counts"}, {}, 3, "failed data-quality validation"),
    ("wrong-answer", {"kind": "wrong_media"}, {}, 4, "does not match its request"),
    ("budget", None, {"max_requests": 2}, 0, "max_requests is 2"),
    ("impossible-window", None, {"before_date": D0}, 0, "is empty"),
]


@pytest.mark.parametrize(
    ("fault", "kwargs", "requests", "message"),
    [p[1:] for p in PERMANENT],
    ids=[p[0] for p in PERMANENT],
)
def test_a_failure_no_retry_can_change_costs_one_try(
    tmp_path: Path,
    fansly_conn: Emulator,
    logs: LogText,
    fault: dict[str, Any] | None,
    kwargs: dict[str, Any],
    requests: int,
    message: str,
) -> None:
    if fault is not None:
        fansly_conn.add_faults({**fault, "media": "f2", "times": 100})
    dag = build_dag(
        media_offer_ids=IDS, output_path=str(tmp_path), **{**WINDOW, **RETRIES, **kwargs}
    )
    dr = dag.test()
    assert dr.state == "failed"
    (ti,) = dr.get_task_instances()
    assert ti.try_number == 1  # Airflow did not retry
    assert fansly_conn.state.counts["requests"] == requests
    text = logs()
    assert message in text and "not retried:" in text


def test_a_passing_failure_keeps_airflows_retries(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText
) -> None:
    fansly_conn.add_faults({"kind": "server_error", "media": "f2", "times": 100})
    dag = build_dag(media_offer_ids=IDS, output_path=str(tmp_path), **{**WINDOW, **RETRIES})
    dr = dag.test()
    assert dr.state == "failed"
    (ti,) = dr.get_task_instances()
    assert ti.try_number == 3  # the first try and Airflow's two retries
    assert "not retried:" not in logs()
