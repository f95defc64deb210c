"""The lake's Delta tables: each write is one commit, retried when a concurrent writer wins.

Delta's optimistic concurrency does the hard part: a commit whose snapshot went stale fails
with ``CommitFailedError`` when another commit touched what it read or replaced, and is then
run again against the new snapshot from the same staged rows (no API request is sent again).
"""

from __future__ import annotations

import logging
import random
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Literal

import pyarrow as pa
from deltalake import (
    ColumnProperties,
    CommitProperties,
    DeltaTable,
    Field,
    WriterProperties,
    write_deltalake,
)
from deltalake.exceptions import CommitFailedError, DeltaError, TableNotFoundError

from airflow_provider_fansly.exceptions import FanslyCommitConflictError, FanslyLakeError
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import (
    ACCOUNT_TRAFFIC_SCHEMA,
    ASSET_LINKS_SCHEMA,
    CREDIT_LEDGER_SCHEMA,
    FETCH_LOG_SCHEMA,
    MEDIA_OFFERS_SCHEMA,
    MEDIA_STATS_SCHEMA,
    PARTITION_COLUMNS,
    QUALITY_RESULTS_SCHEMA,
    RESTATEMENTS_SCHEMA,
    TOP_MEDIA_SCHEMA,
)
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.tags import FYP_TAGS_SCHEMA

__all__ = [
    "ACCOUNT_TRAFFIC_TABLE",
    "ASSET_LINKS_TABLE",
    "CREDIT_LEDGER_TABLE",
    "FETCH_LOG_TABLE",
    "FYP_TAGS_TABLE",
    "MEDIA_OFFERS_TABLE",
    "MEDIA_STATS_TABLE",
    "QUALITY_RESULTS_TABLE",
    "RESTATEMENTS_TABLE",
    "TABLES",
    "TOP_MEDIA_TABLE",
    "WRITER_PROPERTIES",
    "Commit",
    "ConflictRetry",
    "TableSpec",
    "append",
    "committing",
    "ensure_table",
    "mark_gone",
    "merge_media_offers",
    "open_table",
    "overwrite_where",
    "replace_tags",
    "table_at",
]

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class TableSpec:
    """A table of the lake: its folder under the root, its schema and its partition columns."""

    name: str
    schema: pa.Schema
    partition_by: tuple[str, ...] = ()


MEDIA_STATS_TABLE = TableSpec(layout.MEDIA_STATS_DIR, MEDIA_STATS_SCHEMA, tuple(PARTITION_COLUMNS))
FYP_TAGS_TABLE = TableSpec(layout.FYP_TAGS_DIR, FYP_TAGS_SCHEMA, tuple(PARTITION_COLUMNS))
MEDIA_OFFERS_TABLE = TableSpec(layout.MEDIA_OFFERS_DIR, MEDIA_OFFERS_SCHEMA)
FETCH_LOG_TABLE = TableSpec(layout.FETCH_LOG_DIR, FETCH_LOG_SCHEMA, ("period_ms",))
CREDIT_LEDGER_TABLE = TableSpec(layout.CREDIT_LEDGER_DIR, CREDIT_LEDGER_SCHEMA)
RESTATEMENTS_TABLE = TableSpec(layout.RESTATEMENTS_DIR, RESTATEMENTS_SCHEMA, ("period_ms",))
QUALITY_RESULTS_TABLE = TableSpec(layout.QUALITY_RESULTS_DIR, QUALITY_RESULTS_SCHEMA)
ASSET_LINKS_TABLE = TableSpec(layout.ASSET_LINKS_DIR, ASSET_LINKS_SCHEMA)
ACCOUNT_TRAFFIC_TABLE = TableSpec(
    layout.ACCOUNT_TRAFFIC_DIR, ACCOUNT_TRAFFIC_SCHEMA, ("period_ms",)
)
TOP_MEDIA_TABLE = TableSpec(layout.TOP_MEDIA_DIR, TOP_MEDIA_SCHEMA)
#: Every table of the lake, the one list maintenance and the page walk.
TABLES = (
    MEDIA_STATS_TABLE,
    MEDIA_OFFERS_TABLE,
    FYP_TAGS_TABLE,
    FETCH_LOG_TABLE,
    CREDIT_LEDGER_TABLE,
    RESTATEMENTS_TABLE,
    QUALITY_RESULTS_TABLE,
    ASSET_LINKS_TABLE,
    ACCOUNT_TRAFFIC_TABLE,
    TOP_MEDIA_TABLE,
)
#: Snappy, Delta's default: every reader has it, and it writes faster than zstd. Dictionary
#: encoding only for the ids (few distinct values): delta-rs keeps one Parquet writer per
#: partition open until the commit, and the counters' dictionary buffers were most of what
#: each of those writers held.
WRITER_PROPERTIES = WriterProperties(
    compression="SNAPPY",
    default_column_properties=ColumnProperties(dictionary_enabled=False),
    column_properties={
        name: ColumnProperties(dictionary_enabled=True) for name in ("account_id", "media_offer_id")
    },
)


@dataclass(frozen=True)
class ConflictRetry:
    """How often and how patiently a conflicting commit is tried again (jittered backoff)."""

    max_tries: int = 25
    base_delay: float = 0.05
    max_delay: float = 3.0

    def delay(self, attempt: int) -> float:
        """Full jitter: a random wait up to ``base * 2**attempt``, capped."""
        return random.uniform(0, min(self.max_delay, self.base_delay * 2**attempt))


@dataclass(frozen=True)
class Commit:
    """What one write committed: the table version and how many conflicts it retried."""

    version: int
    retries: int


def open_table(location: Location, spec: TableSpec) -> DeltaTable | None:
    """Return the table at its latest version, or ``None`` when it does not exist yet."""
    try:
        return DeltaTable(location.table_uri(spec.name), storage_options=location.storage_options)
    except TableNotFoundError:
        return None


def table_at(location: Location, spec: TableSpec, version: int) -> DeltaTable:
    """Return the table as of ``version`` (a writer reads what its own commit saw)."""
    return DeltaTable(
        location.table_uri(spec.name), version=version, storage_options=location.storage_options
    )


def ensure_table(location: Location, spec: TableSpec) -> DeltaTable:
    """Open the table, creating it first when missing and adding the columns this release
    writes that an older one did not (a concurrent creator or upgrader may win)."""
    for _ in range(5):
        table = open_table(location, spec)
        try:
            if table is None:
                DeltaTable.create(
                    location.table_uri(spec.name),
                    schema=spec.schema,
                    partition_by=list(spec.partition_by) or None,
                    mode="ignore",
                    storage_options=location.storage_options,
                )
                continue
            missing = _missing_columns(table, spec)
            if not missing:
                return table
            table.alter.add_columns([Field.from_arrow(f) for f in missing])
            log.info("Added the column(s) %s to %s", [f.name for f in missing], spec.name)
        except (CommitFailedError, DeltaError) as exc:
            log.info("Another writer created or upgraded %s first (%s)", spec.name, exc)
    raise FanslyLakeError(f"could not create the Delta table {location.table_uri(spec.name)}")


def _missing_columns(table: DeltaTable, spec: TableSpec) -> list[pa.Field]:
    """The columns of ``spec`` the table lacks, all nullable: the table is an older release's.

    A table may also hold columns ``spec`` does not (a newer release's, nullable): rows
    written here read null there. Anything else is refused: a type changed, or a column this
    release needs a value for is missing.
    """
    found = {f.name: f for f in pa.schema(table.schema().to_arrow())}
    missing = [f for f in spec.schema if f.name not in found]
    wrong = [f.name for f in spec.schema if f.name in found and found[f.name].type != f.type]
    required = [f.name for f in missing if not f.nullable]
    required += [n for n, f in found.items() if n not in spec.schema.names and not f.nullable]
    if wrong or required:
        raise FanslyLakeError(
            f"the Delta table {spec.name} has the columns {list(found)}, which this provider "
            f"cannot write ({spec.schema.names}): "
            + ", ".join(
                [*(f"{n} has another type" for n in wrong), *(f"{n} is required" for n in required)]
            )
            + "; a schema change is a migration (see CHANGELOG.md), nothing was written"
        )
    return missing


def _schema_mode(table: DeltaTable, spec: TableSpec) -> Literal["merge"] | None:
    """``"merge"`` when the table has columns ``spec`` lacks (a newer release's), so that rows
    written here fill them with null; otherwise the schemas are equal."""
    return "merge" if len(table.schema().fields) > len(spec.schema) else None


def committing(
    location: Location,
    spec: TableSpec,
    write: Callable[[DeltaTable], None],
    what: str,
    retry: ConflictRetry = ConflictRetry(),
) -> Commit:
    """Run ``write`` against the latest snapshot until it commits; return the version.

    ``write`` must be safe to run again: a conflicting try committed nothing.
    """
    for attempt in range(retry.max_tries):
        table = ensure_table(location, spec)
        seen = table.version()  # before ``write``, which may move the object on
        try:
            write(table)
        except CommitFailedError as exc:
            _check_raced(location, spec, seen, what, exc)
            if attempt + 1 == retry.max_tries:
                raise FanslyCommitConflictError(
                    f"{what} conflicted with concurrent commits {retry.max_tries} times in a "
                    f"row; nothing of it was committed. Last conflict: {exc}"
                ) from exc
            wait = retry.delay(attempt)
            log.info(
                "%s conflicted with a concurrent commit (try %d), retrying in %.2f s: %s",
                what,
                attempt + 1,
                wait,
                exc,
            )
            time.sleep(wait)
            continue
        return Commit(table.version(), attempt)
    raise AssertionError("unreachable: max_tries bounds the loop")


def _check_raced(
    location: Location, spec: TableSpec, seen: int, what: str, error: Exception
) -> None:
    """A commit delta-rs refused with no newer version in the log was refused for what it is
    (an append-only table, an unsupported feature), not for a race: say so at once."""
    latest = open_table(location, spec)
    if latest is not None and latest.version() == seen:
        raise FanslyLakeError(
            f"delta-rs refused {what}, and no other commit came in between, so trying again "
            f"cannot help: {error}. Nothing of it was committed"
        ) from error


def _overwrite(
    location: Location,
    spec: TableSpec,
    rows: Callable[[], Any],
    predicate: str,
    metadata: dict[str, str],
    retry: ConflictRetry,
) -> Commit:
    """Replace exactly the rows ``predicate`` selects with ``rows()``, in one commit across
    every partition. ``rows`` is called per try: it returns a fresh stream."""

    def write(table: DeltaTable) -> None:
        write_deltalake(
            table,
            rows(),
            mode="overwrite",
            schema_mode=_schema_mode(table, spec),
            predicate=predicate,
            partition_by=list(spec.partition_by),
            writer_properties=WRITER_PROPERTIES,
            commit_properties=CommitProperties(custom_metadata=metadata),
        )

    return committing(location, spec, write, f"the {spec.name} commit", retry)


def overwrite_where(
    location: Location,
    spec: TableSpec,
    rows: pa.Table,
    predicate: str,
    retry: ConflictRetry = ConflictRetry(),
) -> Commit:
    """Replace exactly the rows of ``spec``'s table ``predicate`` selects with ``rows``."""
    return _overwrite(location, spec, lambda: rows.cast(spec.schema), predicate, {}, retry)


def replace_tags(
    location: Location, rows: pa.Table, predicate: str, retry: ConflictRetry = ConflictRetry()
) -> Commit:
    """Replace exactly the ``fyp_tags`` rows ``predicate`` selects with ``rows``."""
    return overwrite_where(location, FYP_TAGS_TABLE, rows, predicate, retry)


#: A merge's update of ``media_offers``: the newest answer's metadata, the first finding kept.
_KEEP_FIRST_FOUND = {
    **{name: f"s.{name}" for name in MEDIA_OFFERS_SCHEMA.names},
    "first_found_at": "coalesce(t.first_found_at, s.first_found_at)",
    "found_by": "coalesce(t.found_by, s.found_by)",
}


def merge_media_offers(
    location: Location, offers: pa.Table, retry: ConflictRetry = ConflictRetry()
) -> Commit:
    """Upsert one current row per (account, media offer) into ``media_offers``."""

    def write(table: DeltaTable) -> None:
        if offers.num_rows:
            table.merge(
                offers.cast(MEDIA_OFFERS_SCHEMA),
                predicate="t.account_id = s.account_id AND t.media_offer_id = s.media_offer_id",
                source_alias="s",
                target_alias="t",
            ).when_matched_update(_KEEP_FIRST_FOUND).when_not_matched_insert_all().execute()

    return committing(location, MEDIA_OFFERS_TABLE, write, "the media_offers merge", retry)


def mark_gone(
    location: Location,
    account_id: str,
    media_offer_ids: list[str],
    fetched_at_ms: int,
    retry: ConflictRetry = ConflictRetry(),
) -> Commit:
    """Flag media offers the API answered gone as ``deleted`` in ``media_offers`` (their
    metadata kept)."""
    gone = pa.Table.from_pylist(
        [
            {
                "account_id": account_id,
                "media_offer_id": m,
                "deleted": True,
                "fetched_at": fetched_at_ms * 1000,
                "first_found_at": fetched_at_ms * 1000,  # only where it is not known yet
                "found_by": "fetched",
            }
            for m in media_offer_ids
        ],
        schema=MEDIA_OFFERS_SCHEMA,
    )

    def write(table: DeltaTable) -> None:
        table.merge(
            gone,
            predicate="t.account_id = s.account_id AND t.media_offer_id = s.media_offer_id",
            source_alias="s",
            target_alias="t",
        ).when_matched_update(
            {"deleted": "s.deleted", "fetched_at": "s.fetched_at"}
        ).when_not_matched_insert_all().execute()

    return committing(location, MEDIA_OFFERS_TABLE, write, "marking gone media offers", retry)


def append(
    location: Location, spec: TableSpec, rows: pa.Table, retry: ConflictRetry = ConflictRetry()
) -> Commit:
    """Append rows to a log table (appends of different writers do not conflict)."""

    def write(table: DeltaTable) -> None:
        write_deltalake(
            table,
            rows.cast(spec.schema),
            mode="append",
            schema_mode=_schema_mode(table, spec),
            writer_properties=WRITER_PROPERTIES,
        )

    return committing(location, spec, write, f"the {spec.name} append", retry)
