"""Weekly upkeep of the Fansly lake: compact old days, vacuum, checkpoint, sweep dead staging.

What it does: every Sunday at 03:00 UTC, rewrites the small files of days older than 3 days
(the daily DAG re-fetches only the last 2) into few large ones, deletes files no table
version of the last 7 days needs (time travel reaches back that far, no further), writes a
checkpoint of each table's log, and removes staging folders of tries that died. It is safe
while the fetching DAGs run: a commit that meets it is retried, on either side.

What it needs: the Variable ``fansly_output_path`` (read when the task runs).
"""

from __future__ import annotations

from datetime import timedelta

import pendulum
from airflow.sdk import DAG, CronTriggerTimetable

from airflow_provider_fansly.operators.maintenance import LakeMaintenanceOperator

with DAG(
    dag_id="fansly_lake_maintenance",
    description="Compact, vacuum and checkpoint the Fansly lake's Delta tables",
    schedule=CronTriggerTimetable("0 3 * * 0", timezone="UTC"),
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    default_args={"retries": 2, "retry_delay": timedelta(minutes=10)},
    tags=["fansly", "maintenance"],
) as dag:
    LakeMaintenanceOperator(
        task_id="maintain",
        output_path="{{ var.value.fansly_output_path }}",
        compact_after_days=3,
        retention=timedelta(days=7),
        execution_timeout=timedelta(hours=2),
    )
