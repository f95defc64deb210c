"""Planned Fansly media statistics: each day, what the credits buy best, into the Delta lake.

What it does, one run per UTC day D: for each account, one ``profilestats`` request over D
finds the media offers that had traffic; the planner (docs/planning.md) then decides from the
lake what to fetch and over which window, within the month's credits: new posts and the
account's current top media offers through D every day (fresh), a post's first 72 hours
hourly (launch), every other media offer once every 28 days with one request covering the 28
days (tail), and a newly found media offer's history (history). Mapped batches fetch and
commit; a last task announces the run's update (the ``fansly_media_stats_updated`` alias).

Runs go one at a time, in order: each plans from what the runs before it fetched.

What it needs (read when a task runs, never when the file is parsed):
- Variable ``fansly_accounts``: JSON ``{"<account id>": ["<media offer id>", ...]}``; a list
  may be empty: the account's media offers are those listed plus those discovered;
- Variable ``fansly_output_path``; the ``fansly_default`` connection (its
  ``monthly_credits`` is the budget the planner keeps); ``FANSLY_POOL`` and
  ``FANSLY_START_DATE`` as for ``fansly_media_stats_daily`` (no history is fetched from
  before that day).
"""

from __future__ import annotations

import os
from datetime import timedelta

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable

from airflow_provider_fansly.operators import (
    MediaStatsOperator,
    MediaStatsPlanOperator,
    MediaStatsUpdatedOperator,
)

OUTPUT = "{{ var.value.fansly_output_path }}"
START = pendulum.parse(os.environ.get("FANSLY_START_DATE", "2024-01-01"), tz="UTC")

with DAG(
    dag_id="fansly_media_stats_planned",
    description="Fansly media statistics, planned within the month's credits, into the lake",
    schedule=CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
    start_date=START,
    catchup=False,
    max_active_runs=1,
    default_args={
        "retries": 3,
        "retry_delay": timedelta(minutes=2),
        "execution_timeout": timedelta(hours=1),
        "pool": os.environ.get("FANSLY_POOL", "default_pool"),
    },
    tags=["fansly"],
) as dag:
    plan = MediaStatsPlanOperator(
        task_id="plan",
        accounts="{{ var.value.fansly_accounts }}",
        output_path=OUTPUT,
        first_day=START.date(),
    )
    fetched = MediaStatsOperator.partial(
        task_id="media_stats", output_path=OUTPUT, max_active_tis_per_dag=4
    ).expand_kwargs(plan.output)
    MediaStatsUpdatedOperator(task_id="lake_updated", summaries=fetched.output, pool="default_pool")
