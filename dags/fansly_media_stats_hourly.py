"""Hourly Fansly media statistics: hourly buckets, fetched once a day for the day just ended.

What it does: each run fetches the 24 hourly buckets of [D, D+1) for every media offer (one
request each, since one answer carries up to 99 buckets) and commits them to the
``media_stats`` table under ``period_ms=3600000``, apart from the daily data; a last task
announces the run's update once.

Why a daily schedule for hourly data: an hourly schedule would cost 24 requests per media
offer per day instead of 1; with 100 media offers that is 72,000 credits a month, more than
a Pro plan holds. For fresher data use ``CronDataIntervalTimetable("0 */6 * * *",
timezone="UTC")``: 4 runs and 4 credits per media offer per day.

Unpaused, it fetches yesterday and then each new day (no catchup); history comes from
``airflow backfill create`` (docs/backfilling.md).

What it needs: the same connection, Variables, DAG params (a run's ``account_id``,
``media_offer_ids`` and ``output_path`` override the Variables) and optional ``FANSLY_POOL``
as ``fansly_media_stats_daily``.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, task

from airflow_provider_fansly.client.windows import HOUR_MS
from airflow_provider_fansly.operators import MediaStatsOperator, batches
from airflow_provider_fansly.operators.updated import MediaStatsUpdatedOperator

with DAG(
    dag_id="fansly_media_stats_hourly",
    description="Fansly hourly media statistics, fetched daily, into the Delta lake",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.parse(os.environ.get("FANSLY_START_DATE", "2024-01-01"), tz="UTC"),
    catchup=False,
    max_active_runs=2,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "execution_timeout": timedelta(hours=1),
        "pool": os.environ.get("FANSLY_POOL", "default_pool"),
    },
    params={
        "account_id": Param(None, type=["null", "string"], description="overrides the Variable"),
        "media_offer_ids": Param(
            None, type=["null", "array"], description="overrides the Variable"
        ),
        "output_path": Param(None, type=["null", "string"], description="overrides the Variable"),
    },
    tags=["fansly"],
) as dag:

    @task(pool="default_pool")
    def media_offer_batches(ids: str, size: str) -> list[list[str]]:
        """Cut the media offers into batches (50 by default): one mapped task each."""
        return batches(ids, int(size))

    fetched = MediaStatsOperator.partial(
        task_id="media_stats",
        account_id="{{ params.account_id or var.value.fansly_account_id }}",
        output_path="{{ params.output_path or var.value.fansly_output_path }}",
        period=HOUR_MS,
        max_active_tis_per_dag=4,
    ).expand(
        media_offer_ids=media_offer_batches(
            "{{ (params.media_offer_ids or var.json.fansly_media_offer_ids) | tojson }}",
            "{{ var.value.get('fansly_batch_size', 50) }}",
        )
    )
    MediaStatsUpdatedOperator(task_id="lake_updated", summaries=fetched.output, pool="default_pool")
