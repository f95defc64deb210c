"""Daily Fansly media statistics into the Delta lake: one run per UTC day, backfill-ready.

What it does: each run fetches the day [D, D+1) (plus a 2-day lookback for late stats on
scheduled runs; none on backfills) for every media offer of one account, in mapped batches,
and commits them to the ``{output}/media_stats`` Delta table (partition ``period_ms=86400000``,
``dt=YYYY-MM-DD``), one commit per batch; batches of one day commit side by side. A last task
announces the run's update once (the ``fansly_media_stats_updated`` alias), which triggers the
quality DAG.

Unpaused, it fetches yesterday and then each new day (no catchup): history comes from
``airflow backfill create --dag-id fansly_media_stats_daily --from-date 2025-01-01
--to-date 2025-12-31`` (docs/backfilling.md), which you start knowingly.

What it needs (read when a task runs, never when the file is parsed):
- a ``fansly_default`` connection (``AIRFLOW_CONN_FANSLY_DEFAULT``), see docs/connection.md;
- Variables ``fansly_account_id``, ``fansly_media_offer_ids`` (a JSON list) and
  ``fansly_output_path`` (``AIRFLOW_VAR_...`` works), each overridable per run by a DAG param;
  ``fansly_batch_size`` (default 50) sets the media offers per mapped task.

Load: at most 4 fetch tasks of this DAG at once over all its runs, each paced by the hook.
Optional, in the environment of every Airflow component: ``FANSLY_POOL`` names a pool to
share one key's rate with other DAGs (create it first: ``airflow pools set fansly_api 4
"Fansly API"``; a task in a missing pool waits forever); ``FANSLY_START_DATE`` (ISO date)
is the first day a backfill may reach, default 2024-01-01.
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, task

from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.operators import MediaStatsOperator, batches
from airflow_provider_fansly.operators.updated import MediaStatsUpdatedOperator

BATCH_SIZE = "{{ var.value.get('fansly_batch_size', 50) }}"
ACCOUNT = "{{ params.account_id or var.value.fansly_account_id }}"
MEDIA_OFFERS = "{{ (params.media_offer_ids or var.json.fansly_media_offer_ids) | tojson }}"
OUTPUT = "{{ params.output_path or var.value.fansly_output_path }}"
LOOKBACK_DAYS = "{{ 0 if dag_run.run_type == 'backfill' else 2 }}"

with DAG(
    dag_id="fansly_media_stats_daily",
    description="Fansly media statistics, one UTC day per run, into the Delta lake",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.parse(os.environ.get("FANSLY_START_DATE", "2024-01-01"), tz="UTC"),
    catchup=False,
    max_active_runs=4,
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
        account_id=ACCOUNT,
        output_path=OUTPUT,
        period=DAY_MS,
        lookback=LOOKBACK_DAYS,
        max_active_tis_per_dag=4,
    ).expand(media_offer_ids=media_offer_batches(MEDIA_OFFERS, BATCH_SIZE))
    MediaStatsUpdatedOperator(task_id="lake_updated", summaries=fetched.output, pool="default_pool")
