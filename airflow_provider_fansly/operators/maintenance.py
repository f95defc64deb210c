"""LakeMaintenanceOperator: compact, vacuum and checkpoint the lake's tables while writers run."""

from __future__ import annotations

from collections.abc import Sequence
from datetime import date, datetime, timedelta, timezone
from typing import TYPE_CHECKING, Any

from airflow.sdk import BaseOperator

from airflow_provider_fansly.storage.retention import check_retention

if TYPE_CHECKING:
    from airflow.sdk import Context

__all__ = ["LakeMaintenanceOperator"]


class LakeMaintenanceOperator(BaseOperator):
    """Compact days no longer re-fetched, vacuum old files, checkpoint, sweep dead staging.

    :param output_path: the lake root, as given to ``MediaStatsOperator`` (templated).
    :param compact_after_days: compact only days at least this old (UTC): days the DAGs still
        re-fetch (their ``lookback``) are left alone so compaction never meets a routine batch.
    :param retention: how long removed files (and files dead writers left) stay for time
        travel before vacuum deletes them; at least one hour, so that vacuum never deletes
        the files of a commit another task is writing.
    :param staging_max_age: staging folders untouched this long belong to dead tries.
    """

    template_fields: Sequence[str] = ("output_path",)
    ui_color = "#8fd3fe"

    def __init__(
        self,
        *,
        output_path: str,
        compact_after_days: int = 3,
        retention: timedelta = timedelta(days=7),
        staging_max_age: timedelta = timedelta(days=1),
        **kwargs: Any,
    ) -> None:
        super().__init__(**kwargs)
        if compact_after_days < 1:
            raise ValueError(f"compact_after_days must be at least 1, got {compact_after_days}")
        if staging_max_age < timedelta(0):
            raise ValueError(f"staging_max_age must not be negative, got {staging_max_age}")
        check_retention(retention)
        self.output_path = output_path
        self.compact_after_days = compact_after_days
        self.retention = retention
        self.staging_max_age = staging_max_age

    def execute(self, context: Context) -> dict[str, Any]:
        """Run one maintenance pass; return what it did."""
        from airflow_provider_fansly.hooks.lake import lake_location
        from airflow_provider_fansly.storage.maintenance import maintain

        today = datetime.now(timezone.utc).date()
        before: date = today - timedelta(days=self.compact_after_days)
        location = lake_location(self.output_path)
        self.log.info(
            "Maintaining %s: compacting days before %s, retention %s",
            location,
            before,
            self.retention,
        )
        report = maintain(
            location,
            compact_before=before,
            retention=self.retention,
            staging_max_age=self.staging_max_age,
        )
        self.log.info("Maintenance done: %s", report.as_dict())
        return report.as_dict()
