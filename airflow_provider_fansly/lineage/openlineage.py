"""OpenLineage: the API endpoint into the Delta table (MediaStatsOperator), and the table's
checks (MediaStatsQualityOperator).

The OpenLineage provider asks for the facets after the task succeeded, by default in a forked
child of the task process. A process that has used delta-rs must not use it again after a
fork, so a run records what lineage needs as plain data (:class:`RunLineage`) while it runs,
and :func:`operator_lineage` builds the facets from that record alone.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

if TYPE_CHECKING:
    from airflow.providers.openlineage.extractors import OperatorLineage

__all__ = [
    "QualityLineage",
    "RunLineage",
    "Written",
    "operator_lineage",
    "quality_lineage",
    "run_lineage",
]


@dataclass(frozen=True)
class Written:
    """Another table a run wrote: its URI, ``(name, type)`` of each column, the rows written."""

    table_uri: str
    columns: tuple[tuple[str, str], ...]
    rows: int


@dataclass(frozen=True)
class RunLineage:
    """What one run read and wrote, recorded while it ran (no open handles, no credentials)."""

    api_base_url: str
    account_id: str
    table_uri: str
    #: ``(name, type)`` of each column of the table.
    columns: tuple[tuple[str, str], ...]
    rows: int = 0
    #: ``(rule, passed)`` of each in-run validation rule, over what this run fetched.
    rules: tuple[tuple[str, bool], ...] = ()
    #: the ``fyp_tags`` rows the run committed, if any
    tags: Written | None = None


def run_lineage(api_base_url: str, summary: dict[str, Any]) -> RunLineage:
    """What OpenLineage will need of a MediaStatsOperator run, from its summary, as plain
    data: the listener may call :func:`operator_lineage` in a forked child."""
    from airflow_provider_fansly.storage.columns import MEDIA_STATS_SCHEMA
    from airflow_provider_fansly.storage.layout import FYP_TAGS_DIR, MEDIA_STATS_DIR
    from airflow_provider_fansly.storage.rules import rows_schema, rules
    from airflow_provider_fansly.storage.tags import FYP_TAGS_SCHEMA

    broken = {rule for rules in summary.get("invalid_rules", {}).values() for rule in rules}
    after, before = summary["window"]
    return RunLineage(
        api_base_url=api_base_url,
        account_id=summary["account_id"],
        table_uri=summary["table"],
        columns=tuple((f.name, str(f.type)) for f in MEDIA_STATS_SCHEMA),
        rows=summary["rows"],
        tags=Written(
            summary["table"].removesuffix(MEDIA_STATS_DIR) + FYP_TAGS_DIR,
            tuple((f.name, str(f.type)) for f in FYP_TAGS_SCHEMA),
            summary["tags"],
        )
        if summary["tags"]
        else None,
        rules=tuple(
            (rule, rule not in broken)
            for rule in rules(rows_schema(after, before, summary["period_ms"]))
        ),
    )


def _namespace_and_name(uri: str) -> tuple[str, str]:
    """OpenLineage's dataset naming: ``file`` + path locally, ``s3://bucket`` + key remotely."""
    parts = urlsplit(uri)
    if not parts.scheme or parts.scheme == "file":
        return "file", parts.path
    return f"{parts.scheme}://{parts.netloc}", parts.path.lstrip("/")


def _api_dataset(record: RunLineage) -> tuple[str, str]:
    """The endpoint an account's stats come from, as OpenLineage names an HTTP dataset."""
    parts = urlsplit(record.api_base_url)
    path = f"{parts.path.rstrip('/')}/api/fansly/{record.account_id}/analytics/media"
    return f"{parts.scheme}://{parts.netloc}", path


def operator_lineage(record: RunLineage | None) -> OperatorLineage:
    """The run's OpenLineage facets: input endpoint, output table with schema, row count,
    storage and the in-run validation as data-quality assertions (none before a commit)."""
    from airflow.providers.openlineage.extractors import OperatorLineage

    if record is None:
        return OperatorLineage()
    from openlineage.client.event_v2 import Dataset, OutputDataset
    from openlineage.client.facet_v2 import (
        data_quality_assertions_dataset,
        output_statistics_output_dataset,
        schema_dataset,
        storage_dataset,
    )

    namespace, name = _namespace_and_name(record.table_uri)
    fields = [schema_dataset.SchemaDatasetFacetFields(name=c, type=t) for c, t in record.columns]
    assertions = [
        data_quality_assertions_dataset.Assertion(assertion=rule, success=passed)
        for rule, passed in record.rules
    ]
    # The spec files assertions under input facets; here they describe the rows written.
    facets: dict[str, Any] = {
        "schema": schema_dataset.SchemaDatasetFacet(fields=fields),
        "storage": storage_dataset.StorageDatasetFacet(storageLayer="delta", fileFormat="parquet"),
        "dataQualityAssertions": data_quality_assertions_dataset.DataQualityAssertionsDatasetFacet(
            assertions=assertions
        ),
    }
    statistics = output_statistics_output_dataset.OutputStatisticsOutputDatasetFacet
    output = OutputDataset(
        namespace=namespace,
        name=name,
        facets=facets,
        outputFacets={"outputStatistics": statistics(rowCount=record.rows)},
    )
    outputs = [output]
    if record.tags is not None:
        tags_namespace, tags_name = _namespace_and_name(record.tags.table_uri)
        tags_fields = [schema_dataset.SchemaDatasetFacetFields(name=c, type=t)
                       for c, t in record.tags.columns]  # fmt: skip
        outputs.append(
            OutputDataset(
                namespace=tags_namespace,
                name=tags_name,
                facets={
                    "schema": schema_dataset.SchemaDatasetFacet(fields=tags_fields),
                    "storage": facets["storage"],
                },
                outputFacets={"outputStatistics": statistics(rowCount=record.tags.rows)},
            )
        )
    api_namespace, api_name = _api_dataset(record)
    return OperatorLineage(
        inputs=[Dataset(namespace=api_namespace, name=api_name)], outputs=outputs
    )


@dataclass(frozen=True)
class QualityLineage:
    """What a quality run checked, recorded while it ran (plain data, as :class:`RunLineage`)."""

    table_uri: str
    results_uri: str
    #: ``(check, passed, severity)`` of each check.
    assertions: tuple[tuple[str, bool, str], ...]
    #: rows of the period in the days checked
    rows: int = 0
    #: ``(column, sum, min, max)`` over those rows
    columns: tuple[tuple[str, float, float, float], ...] = ()


def quality_lineage(record: QualityLineage | None) -> OperatorLineage:
    """A quality run's facets: the checked table as input with one assertion per check and
    the metrics of the rows checked, the results table as output."""
    from airflow.providers.openlineage.extractors import OperatorLineage
    from openlineage.client.event_v2 import InputDataset, OutputDataset
    from openlineage.client.facet_v2 import data_quality_assertions_dataset as dqa
    from openlineage.client.facet_v2 import data_quality_metrics_input_dataset as dqm

    if record is None:
        return OperatorLineage()
    namespace, name = _namespace_and_name(record.table_uri)
    assertions = dqa.DataQualityAssertionsDatasetFacet(
        assertions=[
            dqa.Assertion(assertion=check, success=passed, severity=severity)
            for check, passed, severity in record.assertions
        ]
    )
    metrics = dqm.DataQualityMetricsInputDatasetFacet(
        rowCount=record.rows,
        columnMetrics={
            column: dqm.ColumnMetrics(sum=total, min=low, max=high)
            for column, total, low, high in record.columns
        },
    )
    checked = InputDataset(
        namespace=namespace,
        name=name,
        inputFacets={"dataQualityAssertions": assertions, "dataQualityMetrics": metrics},
    )
    results_namespace, results_name = _namespace_and_name(record.results_uri)
    written = OutputDataset(namespace=results_namespace, name=results_name)
    return OperatorLineage(inputs=[checked], outputs=[written])
