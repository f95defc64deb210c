"""What the ``media_stats`` commit path can write: an allowlist of Delta table features.

The provider writes ``media_stats`` data files itself and commits them with delta-rs's
low-level transaction API (:mod:`.replace`), so it gets none of the checks delta-rs's own
writer makes: constraints, invariants, generated columns, change data files, deletion
vectors. Rather than half-honour a feature, a task refuses a table that uses one before it
sends a request (nothing is bought), naming every feature and what to do about it. The
check is pure: it reads the snapshot's protocol, configuration and schema, nothing else.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from deltalake import DeltaTable

from airflow_provider_fansly.exceptions import FanslyTableFeatureError
from airflow_provider_fansly.storage.columns import PARTITION_COLUMNS
from airflow_provider_fansly.storage.delta import MEDIA_STATS_TABLE, open_table
from airflow_provider_fansly.storage.legacy import check_not_legacy
from airflow_provider_fansly.storage.location import Location

__all__ = ["MAX_READER_VERSION", "MAX_WRITER_VERSION", "check_writable", "writable_media_stats"]

MAX_READER_VERSION = 3
MAX_WRITER_VERSION = 7
#: Table features whose presence alone asks nothing of a writer of plain add and remove
#: actions over this schema.
_HARMLESS = {"timestampNtz", "v2Checkpoint", "variantType", "variantType-preview"}
#: Features allowed while the table does not use them (a property, a column's metadata or a
#: constraint makes each active; :func:`refusals_of` looks for those).
_WHILE_INACTIVE = {
    "appendOnly",
    "invariants",
    "checkConstraints",
    "changeDataFeed",
    "generatedColumns",
    "identityColumns",
    "columnMapping",
}
_TRUE = {"true", "1"}
_CHECK = (
    "not enforced by this path: drop it with DeltaTable(...).alter.drop_constraint(name); "
    "the provider's own rules (docs/data-quality.md) check every row"
)
_NO_REMEDY = "keep the provider's tables to the features docs/dataset.md lists"
_FEATURE_REMEDY = {
    "deletionVectors": "rows deleted by a vector would come back when a day is rewritten; "
    "recreate the table without deletion vectors",
    "rowTracking": "row ids would not be kept; recreate the table without row tracking",
    "domainMetadata": "delta-rs cannot write it",
}


@dataclass(frozen=True)
class Refusal:
    """One feature the commit path cannot honour, and what the user can do about it."""

    feature: str
    remedy: str

    def __str__(self) -> str:
        return f"{self.feature} ({self.remedy})"


def check_writable(table: DeltaTable, name: str = MEDIA_STATS_TABLE.name) -> None:
    """Refuse a table this path cannot write correctly; every reason in one message."""
    refusals = refusals_of(table)
    if refusals:
        raise FanslyTableFeatureError(name, [r.feature for r in refusals], _message(name, refusals))


def refusals_of(table: DeltaTable) -> list[Refusal]:
    """Every feature of ``table`` outside the allowlist (empty: writable)."""
    protocol, metadata = table.protocol(), table.metadata()
    config = {k: str(v) for k, v in metadata.configuration.items()}
    fields = {f.name: dict(f.metadata) for f in table.schema().fields}
    return [
        *_versions(protocol.min_reader_version, protocol.min_writer_version),
        *_features(protocol.reader_features or [], protocol.writer_features or []),
        *_properties(config),
        *_columns(fields),
        *_partitioning(list(metadata.partition_columns)),
    ]


def _versions(reader: int, writer: int) -> list[Refusal]:
    if reader <= MAX_READER_VERSION and writer <= MAX_WRITER_VERSION:
        return []
    return [Refusal(f"protocol {reader}/{writer}", "written by a newer Delta engine")]


def _features(reader: Iterable[str], writer: Iterable[str]) -> list[Refusal]:
    allowed = _HARMLESS | _WHILE_INACTIVE
    unknown = sorted({*reader, *writer} - allowed)
    return [Refusal(f"table feature {f}", _FEATURE_REMEDY.get(f, _NO_REMEDY)) for f in unknown]


def _properties(config: Mapping[str, str]) -> list[Refusal]:
    found = []
    if config.get("delta.appendOnly", "").lower() in _TRUE:
        found.append(Refusal("delta.appendOnly", "a day is replaced by removing its old files"))
    if config.get("delta.enableChangeDataFeed", "").lower() in _TRUE:
        found.append(Refusal("delta.enableChangeDataFeed", "this path writes no change data files"))
    if config.get("delta.columnMapping.mode", "none").lower() != "none":
        found.append(Refusal("delta.columnMapping.mode", "files are written by column name"))
    for key in ("delta.enableDeletionVectors", "delta.enableRowTracking"):
        if config.get(key, "").lower() in _TRUE:
            found.append(Refusal(key, "unset it and recreate the table"))
    for key in ("delta.dataSkippingNumIndexedCols", "delta.dataSkippingStatsColumns"):
        if key in config:
            found.append(Refusal(key, "every column gets statistics here; unset it"))
    found += [
        Refusal(f"CHECK constraint {key.removeprefix('delta.constraints.')} ({expr})", _CHECK)
        for key, expr in sorted(config.items())
        if key.startswith("delta.constraints.")
    ]
    return found


def _columns(fields: Mapping[str, Mapping[str, object]]) -> list[Refusal]:
    found = []
    for name, meta in fields.items():
        if "delta.invariants" in meta:
            found.append(Refusal(f"invariant on {name}", "not enforced by this path"))
        if "delta.generationExpression" in meta:
            found.append(Refusal(f"generated column {name}", "this path would leave it null"))
        if any(str(k).startswith("delta.identity.") for k in meta):
            found.append(Refusal(f"identity column {name}", "this path would leave it null"))
    return found


def _partitioning(columns: list[str]) -> list[Refusal]:
    if columns == list(PARTITION_COLUMNS):
        return []
    return [Refusal(f"partitioning {columns}", f"this path writes {list(PARTITION_COLUMNS)}")]


def _message(name: str, refusals: list[Refusal]) -> str:
    return (
        f"the Delta table {name} uses what this provider's commit path cannot write: "
        + "; ".join(str(r) for r in refusals)
        + ". Nothing was fetched or written (docs/dataset.md lists the supported table "
        "properties)"
    )


def writable_media_stats(location: Location) -> DeltaTable | None:
    """Check ``media_stats`` for a task before it sends a request, so a refusal costs nothing:
    refuse a 0.1 lake (looked for only while the table does not exist: no listing for the
    others) and features this path cannot write. ``None``: no table yet (the commit creates
    it before it writes its first file)."""
    table = open_table(location, MEDIA_STATS_TABLE)
    if table is None:
        check_not_legacy(location)
        return None
    check_writable(table)
    return table
