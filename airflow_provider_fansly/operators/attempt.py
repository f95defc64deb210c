"""Who a running try is, read from its Airflow context, and how a failure ends it."""

from __future__ import annotations

import uuid
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from datetime import timedelta
from typing import Any

from airflow_provider_fansly.client.engine import Log
from airflow_provider_fansly.ingest.policy import permanent_reason

__all__ = ["attempt", "claimant", "not_retried_when_permanent", "task_label", "wait_cap"]


def attempt(context: Mapping[str, Any]) -> tuple[str, int]:
    """The run id and try number of this task instance (``manual``/0 outside a task run)."""
    ti = context.get("ti")
    return str(context.get("run_id") or "manual"), int(getattr(ti, "try_number", 0) or 0)


def task_label(context: Mapping[str, Any], task_id: str) -> str:
    """``dag_id.task_id[map_index]`` of this task instance."""
    ti = context.get("ti")
    return f"{getattr(ti, 'dag_id', '-')}.{task_id}[{getattr(ti, 'map_index', -1)}]"


def claimant(context: Mapping[str, Any], task_id: str) -> str:
    """This try, unique per call: its task, run and try number, and a random suffix."""
    run_id, try_number = attempt(context)
    return f"{task_label(context, task_id)} {run_id} try {try_number} {uuid.uuid4().hex[:8]}"


@contextmanager
def not_retried_when_permanent(log: Log) -> Iterator[None]:
    """End the task without Airflow's retries on a failure no retry can change (a bad key, a
    refused table, a budget), saying why; any other error is raised as it is."""
    from airflow.sdk.exceptions import AirflowFailException

    try:
        yield
    except Exception as error:
        reason = permanent_reason(error)
        if reason is None:
            raise
        log.error("Not retried (%s): %s", reason, error)
        raise AirflowFailException(f"{error} [not retried: {reason}]") from error


def wait_cap(execution_timeout: timedelta | None) -> float | None:
    """Half the task's ``execution_timeout``, the most one request may wait out 429s (so the
    task fails with the API's answer, not a timeout); ``None`` without a timeout."""
    if execution_timeout is None:
        return None
    return execution_timeout.total_seconds() / 2
