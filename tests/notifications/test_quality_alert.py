"""QualityAlert's settings and its choice of whether to tell anyone (no Airflow run needed)."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

import pytest

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.notifications import QualityAlert, QualityMessage
from airflow_provider_fansly.notifications.quality import compose


@pytest.mark.parametrize(
    "raw", ["oncall@example.com", '["oncall@example.com"]', '{"to": ["a@b"], "channel": "x"}']
)
def test_a_bad_variable_is_one_error_naming_it(raw: str, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AIRFLOW_VAR_FANSLY_ALERTS", raw)
    with pytest.raises(FanslyInputError, match="the Variable fansly_alerts must be a JSON object"):
        QualityAlert().notify({})


def _context(lake: str, error: Exception | None) -> dict[str, Any]:
    task = SimpleNamespace(dag_id="d", task_id="t", output_path=lake, period=DAY_MS)
    ti = SimpleNamespace(state="failed" if error else "success", try_number=1, log_url=None)
    return {"task": task, "ti": ti, "run_id": "r1", "exception": error}


def test_a_task_that_failed_before_recording_still_alerts_and_says_why(tmp_path: Any) -> None:
    message = compose(_context(str(tmp_path), RuntimeError("the lake was unreachable")), False)
    assert message is not None and message.failed
    assert "Error: the lake was unreachable" in message.text
    assert "No findings were recorded for this run" in message.text


def test_a_passing_task_tells_no_one(tmp_path: Any) -> None:
    assert compose(_context(str(tmp_path), None), on_warnings=True) is None


def test_via_sends_through_any_notifier(tmp_path: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    """The Slack route of the docs, with a notifier that keeps what it was given."""
    monkeypatch.delenv("AIRFLOW_VAR_FANSLY_ALERTS", raising=False)
    sent: list[QualityMessage] = []

    class Kept:
        def __init__(self, message: QualityMessage) -> None:
            self.message = message

        def notify(self, context: Any) -> None:
            sent.append(self.message)

    QualityAlert(via=Kept).notify(_context(str(tmp_path), RuntimeError("boom")))  # type: ignore[arg-type]
    assert [m.subject for m in sent] == [
        f"[Fansly quality] d.t failed: 0 failed, 0 warned, {tmp_path}"
    ]
    assert "<pre>" in sent[0].html and "Error: boom" in sent[0].html


def test_a_cleared_and_rerun_task_reports_only_its_latest_try(tmp_path: Any) -> None:
    """Both tries recorded under one run id: the alert reads the second, not both."""
    from datetime import date, datetime, timezone

    from airflow_provider_fansly.quality.findings import Finding
    from airflow_provider_fansly.quality.results import record, run_findings
    from airflow_provider_fansly.quality.scope import Scope
    from airflow_provider_fansly.storage.location import Location

    location = Location.parse(str(tmp_path))
    tries = {
        1: [Finding("freshness", "failed", "error", "the newest day fetched is 2026-03-01")],
        2: [Finding("freshness", "passed", "error", "no problem found")],
    }
    for minute, findings in tries.items():
        at = datetime(2026, 3, 5, 6, minute, tzinfo=timezone.utc)
        record(location, findings, run_id="r1", checked_at=at, as_of=date(2026, 3, 5),
               period=DAY_MS, scope=Scope("full", 1))  # fmt: skip
    assert [f.status for f in run_findings(location, "r1", DAY_MS)] == ["passed"]
    assert run_findings(location, "r2", DAY_MS) == []
