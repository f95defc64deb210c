"""Rows from answers: a video's answer without video fields (as live captures show) lands
with those columns null, never NaN, and passes the row rules."""

from __future__ import annotations

from airflow_provider_fansly.client.datapoints import StatStruct
from airflow_provider_fansly.client.models import MediaStats
from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.storage.columns import stats_table
from airflow_provider_fansly.storage.rules import rows_schema, validate_table

COUNTS = {"previewViews": 1, "interactionTime": 9, "previewInteractionTime": 2,
          "uniqueViewers": 3, "previewUniqueViewers": 1}  # fmt: skip


def test_a_video_answer_without_video_fields_reads_null_and_passes_the_rules() -> None:
    result = MediaStats("acct", "m1", 0, 2 * DAY_MS, DAY_MS)
    result.video = True  # the body named a video (its media's mimetype), its stats carry none
    result.times = [0, DAY_MS]
    result.stats = [
        StatStruct(type=0, views=5, **COUNTS),
        StatStruct(type=0, views=5, **COUNTS, videoViews=4, totalVideoPercentWatched=310.5),
    ]
    rows = stats_table([result], 1)
    assert rows["video_percent_watched_total"].to_pylist() == [None, 310.5]
    assert rows["video_views"].to_pylist() == [None, 4]
    kept, unknown = validate_table(rows, rows_schema(0, 2 * DAY_MS, DAY_MS), "warn")
    assert kept.num_rows == 2 and unknown == {}
