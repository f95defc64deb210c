"""Daily Fansly media statistics into the Delta lake: one run per UTC day, backfill-ready.

What it does: each run fetches the day [D, D+1) (plus a 2-day lookback for late stats on
scheduled runs; none on backfills) for every media offer of one account, in mapped batches,
and commits them to the ``{output}/media_stats`` Delta table (partition ``period_ms=86400000``,
``dt=YYYY-MM-DD``), one commit per batch; batches of one day commit side by side.

What it needs (read when a task runs, never when the file is parsed):
- a ``fansly_default`` connection (``AIRFLOW_CONN_FANSLY_DEFAULT``), see docs/connection.md;
- Variables ``fansly_account_id``, ``fansly_media_offer_ids`` (a JSON list) and
  ``fansly_output_path`` (``AIRFLOW_VAR_...`` works), each overridable per run by a DAG param;
- a pool ``fansly_api`` sized to the share of the plan's rate this deployment may use
  (``airflow pools set fansly_api 4 "Fansly API"``), see docs/rate-limits.md.
- ``FANSLY_START_DATE`` (environment, ISO date) moves the first day; default 2026-01-01.

Backfill: ``airflow backfill create --dag-id fansly_media_stats_daily --from-date 2025-01-01
--to-date 2025-12-31`` (docs/backfilling.md).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, Param, task

from airflow_provider_fansly.operators.media_stats import MediaStatsOperator, batches
from airflow_provider_fansly.windows import DAY_MS

BATCH_SIZE = 50
ACCOUNT = "{{ params.account_id or var.value.fansly_account_id }}"
MEDIA_OFFERS = "{{ (params.media_offer_ids or var.json.fansly_media_offer_ids) | tojson }}"
OUTPUT = "{{ params.output_path or var.value.fansly_output_path }}"
LOOKBACK_DAYS = "{{ 0 if dag_run.run_type == 'backfill' else 2 }}"

with DAG(
    dag_id="fansly_media_stats_daily",
    description="Fansly media statistics, one UTC day per run, into the Delta lake",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=pendulum.parse(os.environ.get("FANSLY_START_DATE", "2026-01-01"), tz="UTC"),
    catchup=True,
    max_active_runs=4,
    default_args={"retries": 3, "retry_delay": timedelta(minutes=2), "pool": "fansly_api"},
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
    def media_offer_batches(ids: str) -> list[list[str]]:
        """Cut the media offers into batches of 50: one mapped task each."""
        return batches(ids, BATCH_SIZE)

    MediaStatsOperator.partial(
        task_id="media_stats",
        account_id=ACCOUNT,
        output_path=OUTPUT,
        period=DAY_MS,
        lookback=LOOKBACK_DAYS,
    ).expand(media_offer_ids=media_offer_batches(MEDIA_OFFERS))
