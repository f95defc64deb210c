"""Answers that do not match their question never reach the lake (through dag.test())."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
from fansly_probe import build_dag

from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS, split_window
from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator
from tests.conftest import LogText
from tests.lake import lake_rows, snapshot, truth

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
IDS = ["a1", "a2"]

pytestmark = pytest.mark.usefixtures("airflow_db", "fansly_conn")


def requests_for_cap(after: int, before: int, period: int, cap: int) -> int:
    """Per media offer: the operator's chunks of 99 buckets, each in requests of cap-1 buckets.

    A cut answer covers exactly its newest cap-1 buckets, so the follow-ups of a cut cost the
    same as splitting by the reported cap from the start.
    """
    return sum(
        len(split_window(lo, hi, period, cap - 1)) for lo, hi in split_window(after, before, period)
    )


CAPS = [
    ("daily-100", DAY_MS, 90 * DAY_MS, 100),
    ("daily-60", DAY_MS, 90 * DAY_MS, 60),
    ("daily-2", DAY_MS, 90 * DAY_MS, 2),
    ("hourly-100", HOUR_MS, 240 * HOUR_MS, 100),
    ("hourly-60", HOUR_MS, 240 * HOUR_MS, 60),
    ("hourly-2", HOUR_MS, 240 * HOUR_MS, 2),
]


@pytest.mark.parametrize(("period", "span", "cap"), [c[1:] for c in CAPS], ids=[c[0] for c in CAPS])
def test_a_lowered_cap_still_lands_the_truth_and_the_log_says_so_once(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText, period: int, span: int, cap: int
) -> None:
    fansly_conn.config.datapoint_limit = cap
    dag = build_dag(
        media_offer_ids=IDS,
        output_path=str(tmp_path),
        after_date=D0,
        before_date=D0 + span,
        period=period,
    )
    dr = dag.test()
    assert dr.state == "success"
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + span, period)
    expected = len(IDS) * requests_for_cap(D0, D0 + span, period, cap)
    assert fansly_conn.state.counts["requests"] == expected
    assert expected == len(IDS) * -(-(span // period) // (cap - 1))  # the minimum for the cap
    summary = dr.get_task_instances()[0].xcom_pull(task_ids="fetch")
    assert summary["datapoint_limit"] == cap and summary["requests"] == expected
    text = logs()
    assert text.count(f"now caps answers at {cap} buckets") == (0 if cap == 100 else 1)


WRONG = [
    ("seconds", {"kind": "seconds"}, "seconds, not milliseconds?"),
    ("another-media-offer", {"kind": "wrong_media"}, "datasetMediaOfferId 'a2-other'"),
    ("period-ignored", {"kind": "ignored_period"}, "the answer claims period 86400000 ms"),
    ("off-grid", {"kind": "off_grid"}, "grid"),
]


@pytest.mark.parametrize(("fault", "message"), [w[1:] for w in WRONG], ids=[w[0] for w in WRONG])
def test_an_answer_to_another_question_fails_after_one_more_try_and_changes_nothing(
    tmp_path: Path, fansly_conn: Emulator, logs: LogText, fault: dict[str, Any], message: str
) -> None:
    period = HOUR_MS if fault["kind"] == "ignored_period" else DAY_MS
    window = {"after_date": D0, "before_date": D0 + 2 * DAY_MS, "period": period}
    assert build_dag(media_offer_ids=IDS, output_path=str(tmp_path), **window).test().state == (
        "success"
    )
    before = snapshot(tmp_path)
    fansly_conn.state.reset()
    fansly_conn.add_faults({**fault, "media": "a2", "times": 10})
    dr = build_dag(media_offer_ids=IDS, output_path=str(tmp_path), **window).test()
    assert dr.state == "failed"
    text = logs()
    assert "does not match its request" in text and message in text
    assert snapshot(tmp_path) == before
    asked = [e for e in fansly_conn.state.log if e["media"] == "a2"]
    assert len(asked) == 2  # refused, asked once more, refused: no further retries


def test_a_passing_mix_up_is_asked_again_and_lands(tmp_path: Path, fansly_conn: Emulator) -> None:
    fansly_conn.add_faults({"kind": "wrong_media", "media": "a1", "times": 1})
    dag = build_dag(
        media_offer_ids=IDS, output_path=str(tmp_path), after_date=D0, before_date=D0 + 5 * DAY_MS
    )
    assert dag.test().state == "success"
    assert lake_rows(tmp_path) == truth(DEFAULT_ACCOUNT, IDS, D0, D0 + 5 * DAY_MS, DAY_MS)
    assert fansly_conn.state.counts["requests"] == 3
