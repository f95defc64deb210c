"""MediaStatsPlanOperator: discover and plan a day's fetches, as mapped batches.

For each account of ``accounts`` (``{account: [media offer ids]}``, a list may be empty) it
asks the account's statistics of the run's day and plans what to fetch within the month's
credits (:mod:`..ingest.planning`). It returns the batches a mapped
:class:`~.media_stats.MediaStatsOperator` takes with ``expand_kwargs``: an account, at most
``batch_size`` media offers sharing a tier and a window, the period and the window.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from datetime import date
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_fansly.exceptions import FanslyInputError
from airflow_provider_fansly.hooks.fansly import FanslyHook
from airflow_provider_fansly.ingest.inputs import account_media
from airflow_provider_fansly.operators.attempt import attempt, not_retried_when_permanent

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["MediaStatsPlanOperator", "parse_accounts"]


def parse_accounts(value: str | Mapping[str, Sequence[str]]) -> dict[str, list[str]]:
    """``{account: [media offer ids]}`` from a mapping or its JSON (a list may be empty)."""
    try:
        return account_media(value, "accounts")
    except ValueError as error:
        raise FanslyInputError(str(error)) from error


class MediaStatsPlanOperator(BaseOperator):
    """Plan the run's day for each account; return the batches to fetch.

    :param accounts: ``{account: [media offer ids]}`` or its JSON (templated); the listed
        media offers are planned besides those the account's statistics name.
    :param output_path: the lake (templated), as for :class:`~.media_stats.MediaStatsOperator`.
    :param batch_size: media offers per batch (at most 50 keeps an agency's day far under
        Airflow's ``max_map_length``).
    :param first_day: the first day of history for a media offer whose creation is unknown.
    """

    template_fields = ("accounts", "output_path")
    ui_color = "#1da1f2"

    def __init__(
        self,
        *,
        accounts: str | Mapping[str, Sequence[str]],
        output_path: str,
        fansly_conn_id: str = FanslyHook.default_conn_name,
        batch_size: int = 50,
        first_day: date | None = None,
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if not 1 <= batch_size <= 50:
            raise ValueError(f"batch_size must be 1 to 50, got {batch_size}")
        self.accounts = accounts
        self.output_path = output_path
        self.fansly_conn_id = fansly_conn_id
        self.batch_size = batch_size
        self.first_day = first_day

    def execute(self, context: Context) -> list[dict[str, Any]]:
        """Discover, plan and cut each account's day into batches."""
        from airflow_provider_fansly.hooks.lake import LakeHook
        from airflow_provider_fansly.ingest.planner import batches_of
        from airflow_provider_fansly.ingest.planning import plan_day

        with not_retried_when_permanent(self.log):
            accounts = parse_accounts(self.accounts)
            start = context.get("data_interval_start")
            if start is None:
                raise FanslyInputError("a planned run needs a data interval (a logical date)")
            day = start.date()
            run_id, _ = attempt(context)
            location = LakeHook(self.output_path).get_conn()
            hook = FanslyHook(self.fansly_conn_id)
            found: list[dict[str, Any]] = []
            try:
                for account, listed in accounts.items():
                    planned = plan_day(
                        hook.get_conn(), location, account, listed, day,
                        task=f"{self.dag_id}.{self.task_id}", run_id=run_id,
                        first_day=self.first_day, share=1 / len(accounts), log=self.log,
                    )  # fmt: skip
                    batches = batches_of(planned.plan.fetches, self.batch_size)
                    found += [{"account_id": account, **b} for b in batches]
            finally:
                hook.close()
        self.log.info("Planned %d batch(es) over %d account(s)", len(found), len(accounts))
        return found
