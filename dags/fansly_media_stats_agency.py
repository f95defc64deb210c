"""Daily media statistics for an agency: several accounts, each with its own media offers.

What it does: one run per UTC day; a mapped task per (account, batch of media offers), at
most 4 at once over all runs, each paced by the hook, so that the accounts together stay
under the plan's rate (one API key serves every account connected to it); a last task
announces the run's update once. Unpaused, it fetches yesterday and then each new day (no
catchup); history comes from ``airflow backfill create`` (docs/backfilling.md).

What it needs:
- Variable ``fansly_accounts``: JSON ``{"<account id>": ["<media offer id>", ...], ...}``;
- Variable ``fansly_output_path``; the ``fansly_default`` connection; optionally
  ``fansly_batch_size`` (default 50) and ``FANSLY_POOL`` as for ``fansly_media_stats_daily``.
"""

from __future__ import annotations

import json
import os
from datetime import timedelta
from typing import Any

import pendulum
from airflow.sdk import DAG, CronDataIntervalTimetable, task

from airflow_provider_fansly.operators import MediaStatsOperator, batches
from airflow_provider_fansly.operators.updated import MediaStatsUpdatedOperator

with DAG(
    dag_id="fansly_media_stats_agency",
    description="Fansly media statistics for several accounts, one UTC day per run",
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
    tags=["fansly"],
) as dag:

    @task(pool="default_pool")
    def account_batches(accounts: str, size: str) -> list[dict[str, Any]]:
        """Expand ``{account: [media offers]}`` into one operator call per account batch
        (50 media offers by default)."""
        parsed = json.loads(accounts)
        if not isinstance(parsed, dict) or not parsed:
            raise ValueError("Variable fansly_accounts must be a JSON object {account: [ids]}")
        return [
            {"account_id": account, "media_offer_ids": batch}
            for account, ids in parsed.items()
            for batch in batches(ids, int(size))
        ]

    fetched = MediaStatsOperator.partial(
        task_id="media_stats",
        output_path="{{ var.value.fansly_output_path }}",
        lookback="{{ 0 if dag_run.run_type == 'backfill' else 2 }}",
        max_active_tis_per_dag=4,
    ).expand_kwargs(
        account_batches(
            "{{ var.value.fansly_accounts }}", "{{ var.value.get('fansly_batch_size', 50) }}"
        )
    )
    MediaStatsUpdatedOperator(task_id="lake_updated", summaries=fetched.output, pool="default_pool")
