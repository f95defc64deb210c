"""A one-task quality DAG the tests rebuild with different arguments and run with dag.test()."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_fansly.operators.quality import MediaStatsQualityOperator

DAG_ID = "fansly_quality_probe"


def build_dag(**operator_kwargs: Any) -> DAG:
    """Return the probe DAG; ``operator_kwargs`` go to the operator."""
    with DAG(
        DAG_ID,
        schedule=None,
        start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
        catchup=False,
        tags=["test"],
    ) as dag:
        MediaStatsQualityOperator(task_id="quality", **{"retries": 0, **operator_kwargs})
    return dag


dag = build_dag(output_path="/tmp/fansly-quality-probe-lake")
