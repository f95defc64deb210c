"""A one-task maintenance DAG the tests rebuild with different arguments and run with dag.test()."""

from __future__ import annotations

from typing import Any

import pendulum
from airflow.sdk import DAG

from airflow_provider_fansly.operators.maintenance import LakeMaintenanceOperator

DAG_ID = "fansly_maintenance_probe"


def build_dag(**operator_kwargs: Any) -> DAG:
    """Return the probe DAG; ``operator_kwargs`` go to the operator."""
    kwargs: dict[str, Any] = {"output_path": "/tmp/fansly-probe-lake", **operator_kwargs}
    with DAG(
        DAG_ID, schedule=None, start_date=pendulum.datetime(2026, 1, 1, tz="UTC"), tags=["test"]
    ) as dag:
        LakeMaintenanceOperator(task_id="maintain", retries=0, **kwargs)
    return dag


dag = build_dag()
