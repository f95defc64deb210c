"""Answers checked against their question: what is refused, what is kept, what was cut."""

from __future__ import annotations

from typing import Any

import pytest

from airflow_provider_fansly.client.datapoints import Rows
from airflow_provider_fansly.client.envelope import StatsResponse
from airflow_provider_fansly.client.reconcile import Question, reconcile, vouched_from
from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.exceptions import FanslyAnswerMismatchError, RequestContext

D0 = 1_767_225_600_000  # 2026-01-01T00:00Z
CTX = RequestContext("media statistics", "acc", "m1", D0, D0 + 90 * DAY_MS, DAY_MS)
ASKED = Question("m1", D0, D0 + 90 * DAY_MS, DAY_MS)


def answer(stamps: list[int], **over: Any) -> StatsResponse:
    """An answer with one stat row per bucket in ``stamps`` (newest first, as the API sends)."""
    fields: dict[str, Any] = {
        "period": DAY_MS,
        "date_after": D0,
        "date_before": D0 + 90 * DAY_MS,
        "datapoint_limit": 100,
        "media_offer_id": "m1",
        "timestamps": stamps,
        "rows": Rows(list(stamps), [object() for _ in stamps]),
        "media": [],
        "unknown_fields": set(),
        "path": "fast",
        **over,
    }
    return StatsResponse(**fields)


def days(*offsets: int) -> list[int]:
    return [D0 + d * DAY_MS for d in offsets]


def test_a_whole_answer_keeps_every_bucket_but_the_one_at_before_date() -> None:
    got = reconcile(answer(days(90, 89, 50, 0)), ASKED, CTX)
    assert got.rows.times == days(89, 50, 0) and got.covered_from == D0 and got.limit == 100


def test_a_quiet_boundary_bucket_has_no_rows_to_drop() -> None:
    quiet_boundary = answer(days(90, 89), rows=Rows(days(89), [object()]))
    assert reconcile(quiet_boundary, ASKED, CTX).rows.times == days(89)


def test_a_boundary_bucket_sent_twice_is_dropped_both_times() -> None:
    got = reconcile(answer(days(90, 89, 90, 0)), ASKED, CTX)
    assert got.rows.times == days(89, 0)


def test_quiet_and_left_out_buckets_and_an_old_windows_zero_bucket_are_normal() -> None:
    assert reconcile(answer([]), ASKED, CTX).rows.times == []
    old = Question("m1", 0, 3 * DAY_MS, DAY_MS)  # 1970: one all-zero bucket at beforeDate
    assert reconcile(answer([3 * DAY_MS]), old, CTX).rows.times == []


def test_no_reported_limit_means_the_documented_100() -> None:
    assert reconcile(answer(days(90), datapoint_limit=None), ASKED, CTX).limit == 100


def test_a_cut_answer_vouches_only_for_its_newest_buckets() -> None:
    got = reconcile(answer(days(90, 70, 31), datapoint_limit=60), ASKED, CTX)
    assert got.covered_from == D0 + 31 * DAY_MS  # 60 slots: days 31..90, the 90th the boundary
    assert got.rows.times == days(70, 31) and got.limit == 60


def test_a_window_that_fits_the_reported_cap_is_not_cut() -> None:
    asked = Question("m1", D0, D0 + 59 * DAY_MS, DAY_MS)  # 60 slots with the boundary
    assert reconcile(answer(days(59, 0), datapoint_limit=60), asked, CTX).covered_from == D0


REFUSED = [
    ("other-period", answer(days(1), period=HOUR_MS), "period 3600000 ms", "period 86400000 ms"),
    ("other-media", answer(days(1), media_offer_id="m2"), "'m2'", "'m1'"),
    ("off-grid", answer([D0 + 5]), f"a bucket at {D0 + 5} ms", "grid"),
    ("seconds", answer([(D0 + DAY_MS) // 1000]), "seconds, not milliseconds?", "buckets in"),
    ("after-before-date", answer(days(91)), f"a bucket at {D0 + 91 * DAY_MS}", "buckets in"),
    ("cut-but-old", answer(days(5), datapoint_limit=60), "datapointLimit 60", "newest 60 of 91"),
    ("no-room", answer([], datapoint_limit=1), "datapointLimit 1", "room for one bucket"),
]


@pytest.mark.parametrize(
    ("dataset", "claimed", "asked"), [r[1:] for r in REFUSED], ids=[r[0] for r in REFUSED]
)
def test_an_answer_to_another_question_is_refused_naming_both(
    dataset: StatsResponse, claimed: str, asked: str
) -> None:
    with pytest.raises(FanslyAnswerMismatchError) as refused:
        reconcile(dataset, ASKED, CTX)
    assert claimed in refused.value.claimed and asked in refused.value.asked
    assert "does not match its request" in str(refused.value)


@pytest.mark.parametrize(
    ("buckets", "limit", "vouched"),
    [(99, 100, 0), (100, 100, 1), (250, 100, 151), (10, 5, 6)],
    ids=["fits-with-the-extra-bucket", "one-too-many", "long-window", "small-cap"],
)
def test_an_answer_vouches_for_its_newest_limit_minus_one_buckets(
    buckets: int, limit: int, vouched: int
) -> None:
    """The API adds a bucket at ``before``: a window of ``limit - 1`` buckets fits whole."""
    start = vouched_from(0, buckets * DAY_MS, DAY_MS, limit)
    assert start == vouched * DAY_MS
