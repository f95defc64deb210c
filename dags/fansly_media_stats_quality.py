"""Data quality of the Fansly lake, run once per DAG run that updated it.

When: on the ``fansly_media_stats_updated`` alias, which the fetching DAGs' last task emits
once every batch of their run committed: once per producing run, not once per batch.

What it does: reads the lake with DuckDB and logs, per account and day, rows, views, unique
viewers and average engagement; then checks coverage (days never fetched, media offers
missing from a day) from ``fansly_quality_start`` (default: 14 days ago, or the first day the
lake holds if later, so a new deployment is not alarmed) to yesterday, and fails when a gap
is older than ``fansly_max_gap_days`` days (default 3), so late data has time to land before
anyone is paged.

What it needs: Variables ``fansly_output_path`` and ``fansly_accounts`` (JSON
``{account: [ids]}``) or ``fansly_account_id`` + ``fansly_media_offer_ids``; DuckDB
(``pip install airflow-provider-fansly[quality]``).
"""

from __future__ import annotations

import json
import logging
from datetime import date, timedelta

import pendulum
from airflow.sdk import DAG, Variable, task

from airflow_provider_fansly.assets import MEDIA_STATS_UPDATED

log = logging.getLogger(__name__)

with DAG(
    dag_id="fansly_media_stats_quality",
    description="Daily totals and coverage gaps of the Fansly lake",
    schedule=[MEDIA_STATS_UPDATED],
    start_date=pendulum.datetime(2026, 1, 1, tz="UTC"),
    catchup=False,
    max_active_runs=1,
    tags=["fansly", "quality"],
) as dag:

    @task
    def check_lake() -> dict[str, int]:
        """Log daily totals and fail on coverage gaps older than the threshold."""
        from airflow_provider_fansly.coverage import coverage_gaps, daily_totals

        root = Variable.get("fansly_output_path")
        accounts = Variable.get("fansly_accounts", default=None)
        expected = (
            json.loads(accounts)
            if accounts
            else {
                Variable.get("fansly_account_id"): json.loads(
                    Variable.get("fansly_media_offer_ids")
                )
            }
        )
        today = date.today()
        start = Variable.get("fansly_quality_start", default=None)
        first = date.fromisoformat(start) if start else today - timedelta(days=14)
        max_age = int(Variable.get("fansly_max_gap_days", default="3"))
        for row in daily_totals(root):
            log.info(
                "%(account_id)s %(dt)s: %(rows)s rows, %(views)s views, %(unique_viewers)s "
                "unique viewers, %(avg_engagement_s)s s average engagement",
                row,
            )
        gaps = coverage_gaps(
            root, expected, first, today - timedelta(days=1), since_first_fetch=start is None
        )
        for gap in gaps:
            log.warning(
                "Gap: %s %s: %d media offer(s) missing", gap.account_id, gap.day, len(gap.missing)
            )
        stale = [g for g in gaps if g.age_days(today) > max_age]
        if stale:
            raise ValueError(
                f"{len(stale)} coverage gap(s) older than {max_age} days, the oldest "
                f"{stale[0].account_id} {stale[0].day} missing {', '.join(stale[0].missing[:5])}: "
                "backfill them (docs/backfilling.md)"
            )
        return {"gaps": len(gaps), "stale_gaps": 0}

    check_lake()
