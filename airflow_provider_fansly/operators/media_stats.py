"""MediaStatsOperator: one window of media statistics into the lake's Delta tables.

Glue: it turns Airflow's context into a task spec, and the spec's run (fetch, validate, stage,
one commit: :func:`..ingest.pipeline.run_task`) into events and lineage.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import MISSING, asdict, fields
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any, Literal

from airflow.sdk import BaseOperator

from airflow_provider_fansly.assets import MEDIA_STATS, announce_batch
from airflow_provider_fansly.client.windows import DAY_MS
from airflow_provider_fansly.deprecation import moved_names
from airflow_provider_fansly.hooks.fansly import FanslyHook
from airflow_provider_fansly.ingest import inputs as task_inputs
from airflow_provider_fansly.ingest.spec import TaskSpec, task_spec
from airflow_provider_fansly.lineage.openlineage import RunLineage, operator_lineage, run_lineage
from airflow_provider_fansly.links.fansly import LakePageLink
from airflow_provider_fansly.operators.attempt import (
    attempt,
    not_retried_when_permanent,
    task_label,
    wait_cap,
)

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage
    from airflow.sdk import Context
    from airflow.sdk.definitions.mappedoperator import OperatorPartial

    from airflow_provider_fansly.storage.rules import UnknownStatTypes

__all__ = ["MediaStatsOperator"]

#: The arguments that make the :class:`TaskSpec`, as they render: what, when, then how.
_INPUTS = ("account_id", "media_offer_ids", "after_date", "before_date", "lookback", "period")
_OPTIONS = tuple(f.name for f in fields(TaskSpec) if f.default is not MISSING)

#: 0.5's re-exports, still importable from here with a warning until 0.7.
__getattr__ = moved_names(
    __name__,
    {
        "RunSummary": "airflow_provider_fansly.ingest.summary.RunSummary",
        "batches": "airflow_provider_fansly.operators.batches",
        "parse_media_offer_ids": "airflow_provider_fansly.operators.parse_media_offer_ids",
    },
)


class MediaStatsOperator(BaseOperator):
    """Fetch media statistics for a window and commit them to the lake's Delta tables.

    :param account_id: the vendor's id of the connected account (templated).
    :param media_offer_ids: one id, a list, or a JSON list string (templated).
    :param output_path: lake root: a local path or an ``ObjectStoragePath`` URL such as
        ``s3://aws_default@bucket/fansly`` (templated).
    :param period: bucket length in ms: 86,400,000 (daily) or 3,600,000 (hourly).
    :param after_date: window start (epoch ms, aware datetime or ISO-8601; templated; empty
        means not given); with ``before_date`` it replaces the run's data interval.
    :param before_date: window end, exclusive (templated).
    :param lookback: also re-fetch this much before the window, for stats that arrive late (a
        timedelta or days; templated); free while the window stays within 99 buckets.
    :param unknown_stat_types: ``"warn"`` keeps and counts them, ``"drop"``, or ``"fail"``.
    :param max_requests: stop before sending more requests than this (a credit budget).
    :param max_in_flight: media offers fetched at once (under the hook's pacing).
    :param on_gone: a media offer answered gone (deleted, or not found): ``"skip"`` commits the
        others and records it, its history untouched; ``"fail"`` fails the task. When all are
        gone, one more request asks whether the account is still connected: if not, it fails.
    :param on_invalid: rows that break a data-quality rule: ``"fail"`` publishes nothing;
        ``"quarantine"`` publishes the other media offers and records the bad one's report,
        its history untouched. All of them invalid still fails.
    :param resume_max_age: a retry reuses answers earlier tries staged within this age and
        buys only the rest (recent stats still move, so older ones are bought again).
    :param max_rate_limit_wait: the most seconds one request waits out 429s (default: the
        connection's, else 900 s; ``0`` fails on the first), within half ``execution_timeout``.
    :param tier: the planner's tier the task fetches for, recorded in the credit ledger.

    Its outlet is the :data:`~airflow_provider_fansly.assets.MEDIA_STATS` alias, mapped or not:
    each commit attaches the lake's ``media_stats`` Asset, what it wrote as the event's
    ``extra``. With the OpenLineage provider, the lineage goes from the endpoint to the table.
    """

    template_fields: Sequence[str] = (
        "account_id",
        "media_offer_ids",
        "output_path",
        "after_date",
        "before_date",
        "lookback",
    )
    ui_color = "#1da1f2"
    operator_extra_links = (LakePageLink(),)

    def __init__(
        self,
        *,
        account_id: str,
        media_offer_ids: str | list[str],
        output_path: str,
        period: int = DAY_MS,
        after_date: int | str | datetime | None = None,
        before_date: int | str | datetime | None = None,
        lookback: timedelta | float | str | None = None,
        unknown_stat_types: UnknownStatTypes = "warn",
        fansly_conn_id: str = FanslyHook.default_conn_name,
        max_requests: int | None = None,
        max_in_flight: int = 16,
        on_gone: Literal["skip", "fail"] = "skip",
        on_invalid: Literal["fail", "quarantine"] = "fail",
        resume_max_age: timedelta = timedelta(hours=6),
        max_rate_limit_wait: float | None = None,
        tier: str | None = None,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", [MEDIA_STATS])
        super().__init__(**kwargs)
        task_inputs.check_options(
            period=period,
            unknown_stat_types=unknown_stat_types,
            max_in_flight=max_in_flight,
            on_gone=on_gone,
            on_invalid=on_invalid,
            resume_max_age=resume_max_age,
            max_rate_limit_wait=max_rate_limit_wait,
            lookback=lookback,
        )
        self.account_id = account_id
        self.media_offer_ids = media_offer_ids
        self.output_path = output_path
        self.period = period
        self.after_date = after_date
        self.before_date = before_date
        self.lookback = lookback
        self.unknown_stat_types = unknown_stat_types
        self.fansly_conn_id = fansly_conn_id
        self.max_requests = max_requests
        self.max_in_flight = max_in_flight
        self.on_gone = on_gone
        self.on_invalid = on_invalid
        self.resume_max_age = resume_max_age
        self.max_rate_limit_wait = max_rate_limit_wait
        self.tier = tier
        #: the window ``execute`` resolved, for the task's link to the page
        self.fetched_window: tuple[int, int] | None = None
        self._lineage: RunLineage | None = None

    @classmethod
    def partial(cls, **kwargs: Any) -> OperatorPartial:
        """Map the operator with the MEDIA_STATS alias as its outlet (a given ``outlets`` wins):
        a mapped operator's ``__init__`` does not run at parse time, its partial does."""
        kwargs.setdefault("outlets", [MEDIA_STATS])
        return super().partial(**kwargs)

    def execute(self, context: Context) -> dict[str, Any]:
        """Turn the context into a task spec, run it with the hooks' client and lake, then
        announce what it committed; a failure no retry can change skips Airflow's retries."""
        # The data path (pyarrow, polars, pandera, delta-rs) loads when a task runs, never
        # when a DAG file that uses this operator is parsed.
        from airflow_provider_fansly.hooks.lake import LakeHook
        from airflow_provider_fansly.ingest.pipeline import run_task

        with not_retried_when_permanent(self.log):
            spec = self._spec(context)
            self.fetched_window = spec.window
            hook = FanslyHook(
                self.fansly_conn_id,
                max_requests=self.max_requests,
                max_rate_limit_wait=self.max_rate_limit_wait,
                rate_limit_wait_cap=wait_cap(self.execution_timeout),
            )
            location = LakeHook(self.output_path).get_conn()
            try:
                summary = run_task(hook.get_conn(), location, spec, self.log)
            finally:
                hook.close()
        result = asdict(summary)
        announce_batch(self.outlets, context.get("outlet_events"), location, result, self.log)
        self._lineage = run_lineage(hook.settings.base_url, result)
        return result

    def _spec(self, context: Context) -> TaskSpec:
        """The task's work as plain values: rendered arguments, the run's interval, this try."""
        run_id, try_number = attempt(context)
        interval = (context.get("data_interval_start"), context.get("data_interval_end"))
        task = task_label(context, self.task_id)
        args = {name: getattr(self, name) for name in (*_INPUTS, *_OPTIONS)}
        return task_spec(interval=interval, run_id=run_id, try_number=try_number, task=task, **args)

    def get_openlineage_facets_on_complete(self, task_instance: object) -> OperatorLineage:
        """OpenLineage facets of the run that just ended (called by the provider's listener)."""
        return operator_lineage(self._lineage)
