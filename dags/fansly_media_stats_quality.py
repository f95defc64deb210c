"""Data quality of the Fansly lake: once per DAG run that updated it, and every day anyway.

When: on the ``fansly_media_stats_updated`` alias, which the fetching DAGs' last task emits
once every batch of their run committed (once per producing run, not once per batch); *or*
at 06:00 UTC every day, whether or not anything was written. The daily run is what notices
silence: when fetching stops (an expired key, a paused DAG, a broken image) no update
triggers a run, but the 06:00 run still judges freshness and completeness up to that day.

What it does: ``MediaStatsQualityOperator`` runs every check over the daily data and over the
hourly data (completeness, freshness, volume anomalies, uniqueness, invariants, hourly
against daily, restatement) up to today (UTC, exclusive), records each finding in the lake's
``quality_results`` table, logs a report with failures first, and fails when an ``error``
check fails. Gaps younger than 3 days are warnings (their runs may still be going); days
before the first one the lake holds are not judged, so a new deployment is not alarmed.

What it needs: the Variable ``fansly_output_path``; optionally ``fansly_accounts`` and
``fansly_hourly_accounts`` (JSON ``{account: [ids]}``) for the daily and the hourly data to
expect, else every media offer the lake's fetch log ever held for that period, less those
that answered gone. Set them when you stop fetching something on purpose (a one-off hourly
backfill, say): what the log once held is otherwise expected every day after.

Alerts: a task that fails (and, if asked, one that warns) sends its findings report, the
lake and a link to the Fansly page by e-mail, once the Variable ``fansly_alerts`` says where:
``{"to": ["oncall@example.com"], "smtp_conn_id": "smtp_default", "on_warnings": false}``
(docs/data-quality.md#alerts; Slack or any other notifier: ``QualityAlert(via=...)``).

Optional: ``FANSLY_QUALITY_CRON`` in the environment of every component changes the daily
time (a cron expression, UTC).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, AssetOrTimeSchedule, CronTriggerTimetable

from airflow_provider_fansly.assets import MEDIA_STATS_UPDATED
from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.notifications import QualityAlert
from airflow_provider_fansly.operators.quality import MediaStatsQualityOperator

OUTPUT = "{{ var.value.fansly_output_path }}"
ALERT = QualityAlert()  # reads the Variable fansly_alerts when it runs, not at parse time
EXPECTED = "{{ var.value.get('fansly_accounts', '') }}"
EXPECTED_HOURLY = "{{ var.value.get('fansly_hourly_accounts', '') }}"

with DAG(
    dag_id="fansly_media_stats_quality",
    description="Quality checks of the Fansly lake after each run that updated it, and daily",
    schedule=AssetOrTimeSchedule(
        timetable=CronTriggerTimetable(
            os.environ.get("FANSLY_QUALITY_CRON", "0 6 * * *"), timezone="UTC"
        ),
        assets=[MEDIA_STATS_UPDATED],
    ),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 0,
        "execution_timeout": timedelta(minutes=30),
        "on_failure_callback": ALERT,
        "on_success_callback": ALERT,
    },
    tags=["fansly", "quality"],
) as dag:
    MediaStatsQualityOperator(task_id="daily", output_path=OUTPUT, expected=EXPECTED, period=DAY_MS)
    MediaStatsQualityOperator(
        task_id="hourly", output_path=OUTPUT, expected=EXPECTED_HOURLY, period=HOUR_MS
    )
