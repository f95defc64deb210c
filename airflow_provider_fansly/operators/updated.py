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
    run_extra,
    table_asset,
)
from airflow_provider_fansly.operators.attempt import claimant

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["MediaStatsUpdatedOperator"]


class MediaStatsUpdatedOperator(BaseOperator):
    """Announce a DAG run's update of the lake: one event per table its batches wrote.

    :param summaries: what the MediaStatsOperator tasks returned, usually ``fetched.output``
        of the mapped task (templated). The event's ``extra`` folds them: batches, accounts,
        window, days written, rows, requests and the newest table version.

    With the default ``all_success`` trigger rule it runs only when every batch committed, so
    a run with a failed batch announces nothing until the batch is cleared and succeeds.

    A new lake's first event also links the lake's asset to both aliases, which Airflow cannot
    do from two tasks at once: across every DAG writing the lake, one task claims it in the
    lake (:mod:`..storage.asset_links`) and makes it; another that meets it at that moment
    announces nothing this once. Once Airflow recorded it, every task emits freely.
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
        for summaries in by_table.values():
            extra = run_extra(summaries)
            if self._announce(context, summaries[0], extra):
                announced[table_asset(summaries[0]["table"]).uri] = extra
        return announced

    def _announce(self, context: Context, first: Mapping[str, Any], extra: dict[str, Any]) -> bool:
        """Emit the run's event for one lake; the lake's first one only if this task claims it."""
        from airflow_provider_fansly.hooks.lake import lake_location
        from airflow_provider_fansly.storage.asset_links import claim, is_linked, record_linked

        asset = table_asset(first["table"])
        location = lake_location(first["output_path"])
        if is_linked(location, asset.uri):
            context["outlet_events"][MEDIA_STATS_UPDATED].add(asset, extra=extra)
        else:
            me = claimant(context, self.task_id)
            if not claim(location, asset.uri, me):
                self.log.warning(
                    "Not announcing this run's update of %s: another task is making this "
                    "new lake's first asset event right now (Airflow cannot make it from two "
                    "tasks at once); from the next run on every update is announced",
                    asset.uri,
                )
                return False
            context["outlet_events"][MEDIA_STATS_UPDATED].add(asset, extra=extra)
            context["outlet_events"][MEDIA_STATS].add(asset, extra=extra)
            self._on_success(lambda _: record_linked(location, asset.uri, me))
        self.log.info(
            "%s updated by %d batch(es): %d row(s) over %d day(s), %d request(s), table version %s",
            asset.uri,
            extra["batches"],
            extra["rows"],
            len(extra["days"]),
            extra["requests"],
            extra["table_version"],
        )
        return True

    def _on_success(self, callback: Any) -> None:
        """Run ``callback`` once Airflow has recorded this task's success (and its events)."""
        given: Any = self.on_success_callback
        kept = [] if given is None else list(given) if isinstance(given, list) else [given]
        self.on_success_callback = [*kept, callback]
