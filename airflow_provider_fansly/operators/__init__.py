"""The operators, and the helpers DAG authors use with them: import them from here."""

from airflow_provider_fansly.ingest.inputs import batches, parse_media_offer_ids
from airflow_provider_fansly.operators.maintenance import LakeMaintenanceOperator
from airflow_provider_fansly.operators.media_stats import MediaStatsOperator
from airflow_provider_fansly.operators.planned import MediaStatsPlanOperator
from airflow_provider_fansly.operators.quality import MediaStatsQualityOperator
from airflow_provider_fansly.operators.updated import MediaStatsUpdatedOperator

__all__ = [
    "LakeMaintenanceOperator",
    "MediaStatsOperator",
    "MediaStatsPlanOperator",
    "MediaStatsQualityOperator",
    "MediaStatsUpdatedOperator",
    "batches",
    "parse_media_offer_ids",
]
