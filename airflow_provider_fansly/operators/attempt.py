"""Who a running try is, read from its Airflow context: for staging, the ledger and claims."""

from __future__ import annotations

import uuid
from collections.abc import Mapping
from typing import Any

__all__ = ["attempt", "claimant", "task_label"]


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
