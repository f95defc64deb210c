"""MediaStatsUpdatedOperator: one asset event per DAG run, once every batch is in the lake.

A DAG that fetches in mapped batches commits once per batch, and each commit is an event of
the :data:`~airflow_provider_fansly.assets.MEDIA_STATS` alias. What runs on new data (quality
checks, exports) wants one trigger per producing run instead: this task, placed after the
batches, emits it through :data:`~airflow_provider_fansly.assets.MEDIA_STATS_UPDATED`.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_fansly.assets import (
    MEDIA_STATS,
    MEDIA_STATS_UPDATED,
    resolves,
    run_extra,
    table_asset,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["MediaStatsUpdatedOperator"]


class MediaStatsUpdatedOperator(BaseOperator):
    """Announce a DAG run's update of the lake: one event per table its batches wrote.

    :param summaries: what the MediaStatsOperator tasks returned, usually ``fetched.output``
        of the mapped task (templated). The event's ``extra`` folds them: batches, accounts,
        window, days written, rows, requests and the newest table version.

    With the default ``all_success`` trigger rule it runs only when every batch committed, so
    a run with a failed batch announces nothing until the batch is cleared and succeeds. One
    runs at a time per DAG (``max_active_tis_per_dag=1``): the first event for a new lake also
    links it to the batches' alias, which Airflow cannot do from two tasks at once.
    """

    template_fields = ("summaries",)
    ui_color = "#1da1f2"

    def __init__(self, *, summaries: Iterable[Mapping[str, Any]] | Any, **kwargs: Any) -> None:
        kwargs.setdefault("outlets", [MEDIA_STATS_UPDATED, MEDIA_STATS])
        kwargs.setdefault("max_active_tis_per_dag", 1)
        super().__init__(**kwargs)
        self.summaries = summaries

    def execute(self, context: Context) -> dict[str, dict[str, Any]]:
        """Emit one MEDIA_STATS_UPDATED event per table; return each table's extra."""
        by_table: dict[str, list[Mapping[str, Any]]] = {}
        for summary in self.summaries:
            by_table.setdefault(summary["table"], []).append(summary)
        if not by_table:
            raise ValueError("no batch summaries to announce: did the fetch tasks run?")
        announced = {}
        for table, summaries in by_table.items():
            extra = run_extra(summaries)
            asset = table_asset(table)
            context["outlet_events"][MEDIA_STATS_UPDATED].add(asset, extra=extra)
            if not resolves(MEDIA_STATS, asset):
                context["outlet_events"][MEDIA_STATS].add(asset, extra=extra)
            self.log.info(
                "%s updated by %d batch(es): %d row(s) over %d day(s), %d request(s), "
                "table version %s",
                asset.uri,
                extra["batches"],
                extra["rows"],
                len(extra["days"]),
                extra["requests"],
                extra["table_version"],
            )
            announced[asset.uri] = extra
        return announced
