"""A one-task DAG the tests rebuild with different operator arguments and run with dag.test()."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable

from airflow_provider_fansly.operators.media_stats import MediaStatsOperator

DAG_ID = "fansly_probe"


def build_dag(schedule: Any = None, **operator_kwargs: Any) -> DAG:
    """Return the probe DAG; ``operator_kwargs`` override the operator's defaults."""
    kwargs: dict[str, Any] = {
        "account_id": "fansly_demo",
        "media_offer_ids": ["m1"],
        "output_path": "/tmp/fansly-probe-lake",
        **operator_kwargs,
    }
    with DAG(
        DAG_ID,
        schedule=schedule or CronDataIntervalTimetable("0 0 * * *", timezone="UTC"),
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        tags=["test"],
    ) as dag:
        MediaStatsOperator(task_id="fetch", **{"retries": 0, **kwargs})
    return dag


dag = build_dag()
