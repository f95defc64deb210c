"""Data-quality rules for media statistics rows (pandera) and the stat type registry.

The rules a reader of the lake can rely on, in one place:

- ``stat_type`` is an integer >= 0; known codes are in :data:`STAT_TYPES` (extend it with
  :func:`register_stat_type`); what happens to unknown codes is the operator's
  ``unknown_stat_types`` policy (``warn`` keeps them, ``drop`` removes them, ``fail`` stops).
- ``bucket_start`` lies on the period's UTC grid and inside the requested window.
- every count is a non-negative integer; ``unique_viewers <= views`` and
  ``preview_unique_viewers <= preview_views``.
- the video columns are null (the answer had none) or non-negative, the percent totals finite;
  ``video_views <= views`` and ``preview_video_views <= preview_views``.
- one row per (account, media offer, bucket, stat type): an exact repeat is collapsed, a
  bucket sent twice with different numbers fails.
"""

from __future__ import annotations

from typing import Literal

import numpy as np
import pandera.polars as pa
import polars as pl
import pyarrow
import pyarrow.compute
from pandera.api.polars.types import PolarsData
from pandera.errors import SchemaErrors

from airflow_provider_fansly.client.datapoints import COUNT_COLUMNS, VIDEO_COLUMNS, VIDEO_COUNTS
from airflow_provider_fansly.exceptions import FanslyDataError

__all__ = [
    "KEY_COLUMNS",
    "STAT_TYPES",
    "MediaStatsRows",
    "UnknownStatTypes",
    "register_stat_type",
    "rows_schema",
    "rule_failures",
    "rules",
    "split_unknown_stat_types",
    "stat_type_name",
    "validate_by_media_offer",
    "validate_rows",
    "validate_table",
]

#: Traffic source of each stat type code. 1 is documented for this route; 0 is seen on it;
#: 2-4 come from the platform's newer routes. New codes may appear at any time.
STAT_TYPES: dict[int, str] = {
    0: "fyp",
    1: "direct",
    2: "suggestions",
    3: "search",
    4: "other",
}
KEY_COLUMNS = ["account_id", "media_offer_id", "bucket_start", "stat_type"]
_VIDEO = list(VIDEO_COLUMNS.values())
UnknownStatTypes = Literal["warn", "fail", "drop"]
SAMPLE_ROWS = 5
UTC_US = pl.Datetime(time_unit="us", time_zone="UTC")

#: One 64-bit hash per row's key: equal keys hash equal, so distinct hashes prove distinct keys.
_KEY_HASH = (
    pl.col("account_id").hash(1)
    ^ pl.col("media_offer_id").hash(2)
    ^ pl.col("bucket_start").hash(3)
    ^ pl.col("stat_type").hash(4)
)


def register_stat_type(code: int, name: str) -> None:
    """Teach the registry a stat type code, e.g. ``register_stat_type(5, "messages")``."""
    if not isinstance(code, int) or code < 0:
        raise ValueError(f"a stat type code is an integer >= 0, got {code!r}")
    STAT_TYPES[code] = name


def stat_type_name(code: int) -> str:
    """Return the registered name of a stat type, or ``unknown_<code>``."""
    return STAT_TYPES.get(code, f"unknown_{code}")


class MediaStatsRows(pa.DataFrameModel):
    """One row per media offer, bucket and traffic source; the static rules of the dataset.

    The counter columns (:data:`COUNT_COLUMNS`, Int64 each) are added by :func:`rows_schema`
    from the one mapping of stat fields, so they are not named here again.

    Validated with pandera's polars backend on the Arrow rows without a copy. Rules that look
    at many columns are one dataframe check each: pandera runs every check as its own queries,
    and that fixed cost, not the data, is most of what validation costs (docs/performance.md).
    """

    account_id: pl.Utf8 = pa.Field(str_length={"min_value": 1})
    media_offer_id: pl.Utf8 = pa.Field(str_length={"min_value": 1})
    bucket_start: UTC_US  # type: ignore[valid-type]
    stat_type: pl.Int32 = pa.Field(ge=0)
    fetched_at: UTC_US  # type: ignore[valid-type]

    class Config:
        strict = True

    @pa.dataframe_check(error=f"counts >= 0 ({', '.join(COUNT_COLUMNS)})")
    def counts_not_negative(cls, data: PolarsData) -> pl.LazyFrame:
        """Every counter is a non-negative integer."""
        return data.lazyframe.select(pl.all_horizontal(pl.col(COUNT_COLUMNS) >= 0))

    @pa.dataframe_check(error="unique_viewers <= views")
    def unique_viewers_within_views(cls, data: PolarsData) -> pl.LazyFrame:
        """A viewer counted as unique was also counted as a view."""
        return data.lazyframe.select(pl.col("unique_viewers") <= pl.col("views"))

    @pa.dataframe_check(error="preview_unique_viewers <= preview_views")
    def preview_unique_within_preview_views(cls, data: PolarsData) -> pl.LazyFrame:
        """The same rule for previews."""
        return data.lazyframe.select(pl.col("preview_unique_viewers") <= pl.col("preview_views"))

    @pa.dataframe_check(error=f"video numbers null or >= 0 and finite ({', '.join(_VIDEO)})")
    def video_not_negative(cls, data: PolarsData) -> pl.LazyFrame:
        """A video field the answer did not carry is null; one it carried is a real number."""
        return data.lazyframe.select(
            pl.all_horizontal(
                pl.col(_VIDEO).is_null() | ((pl.col(_VIDEO) >= 0) & pl.col(_VIDEO).is_finite())
            )
        )

    @pa.dataframe_check(error="video_views <= views and preview_video_views <= preview_views")
    def video_views_within_views(cls, data: PolarsData) -> pl.LazyFrame:
        """A video view is a view (null when the answer had none)."""
        return data.lazyframe.select(
            (pl.col("video_views") <= pl.col("views")).fill_null(True)
            & (pl.col("preview_video_views") <= pl.col("preview_views")).fill_null(True)
        )


def _one_row_per_key(data: PolarsData) -> pl.LazyFrame:
    """No key twice. Sorted key hashes prove it cheaply; a repeated hash gets the exact test."""
    if not _hashes_repeat(data.lazyframe):
        return data.lazyframe.select(pl.repeat(True, pl.len()))
    return data.lazyframe.select(~pl.struct(KEY_COLUMNS).is_duplicated())


#: No key twice in the rows of one run (the whole table has its own uniqueness check).
ONE_ROW_PER_KEY = pa.Check(
    _one_row_per_key, name="one_row_per_key", error=f"unique key ({', '.join(KEY_COLUMNS)})"
)


def _hashes_repeat(frame: pl.LazyFrame) -> bool:
    """Whether two rows share a key hash (a shared key, or rarely a collision)."""
    hashes = np.sort(frame.select(_KEY_HASH).collect().to_series().to_numpy())
    return bool((hashes[1:] == hashes[:-1]).any())


def _window_checks(after: int, before: int, period: int) -> list[pa.Check]:
    def epoch_ms(data: PolarsData) -> pl.Expr:
        return pl.col(data.key).dt.epoch("ms")

    return [
        pa.Check(
            lambda data: data.lazyframe.select(epoch_ms(data) % period == 0),
            error=f"bucket_start on the {period} ms UTC grid",
        ),
        pa.Check(
            lambda data: data.lazyframe.select(epoch_ms(data).is_between(after, before - 1)),
            error=f"bucket_start inside [{after}, {before})",
        ),
    ]


#: The rule ``unknown_stat_types="fail"`` adds: every stat type is registered.
UNKNOWN_STAT_TYPES_RULE = "stat_type: registered"
#: What a failed validation means for the whole task; not said of a media offer set apart.
NOTHING_PUBLISHED = "; nothing was published"


def _broken(cases: pl.DataFrame, schema: pa.DataFrameSchema) -> dict[str, pl.DataFrame]:
    """pandera's failure cases grouped by rule, each named as :func:`rules` names it."""
    return {
        str(check) if column == schema.name else f"{column}: {check}": group
        for (column, check), group in cases.group_by(["column", "check"], maintain_order=True)
    }


def _error(
    errors: SchemaErrors, frame: pl.DataFrame, schema: pa.DataFrameSchema, consequence: str
) -> FanslyDataError:
    """One error naming every broken rule, with sample rows; ``consequence`` says what the
    failure means for the task."""
    cases = errors.failure_cases
    broken = _broken(cases, schema)
    lines = [f"{cases.height} value(s) failed data-quality validation{consequence}:"]
    for rule, group in broken.items():
        index = [i for i in group["index"].to_list() if i is not None][:SAMPLE_ROWS]
        lines.append(f"- {rule} failed for {group.height} value(s); sample rows:")
        sample = frame[index].to_dicts() if index else group.head(SAMPLE_ROWS).to_dicts()
        lines.extend(f"    {row}" for row in sample)
    return FanslyDataError("\n".join(lines), tuple(broken))


def rows_schema(
    after: int, before: int, period: int, one_row_per_key: bool = True
) -> pa.DataFrameSchema:
    """Return :class:`MediaStatsRows` plus the rules of one window (build once per run), and
    :data:`ONE_ROW_PER_KEY` unless told otherwise."""
    schema = MediaStatsRows.to_schema().add_columns(
        {name: pa.Column(pl.Int64) for name in COUNT_COLUMNS}
        | {
            column: pa.Column(pl.Int64 if field in VIDEO_COUNTS else pl.Float64, nullable=True)
            for field, column in VIDEO_COLUMNS.items()
        }
        | {"extra_stats": pa.Column(pl.Utf8, nullable=True)}
    )
    bucket = schema.columns["bucket_start"]
    schema = schema.update_column(
        "bucket_start", checks=[*bucket.checks, *_window_checks(after, before, period)]
    )  # a new schema: the model's own (cached by pandera) is left as it is
    if one_row_per_key:
        schema.checks = [*schema.checks, ONE_ROW_PER_KEY]
    return schema


def rules(schema: pa.DataFrameSchema) -> list[str]:
    """Every rule of a schema as its failure reports name them: whole-row rules, then columns'."""
    columns = (
        f"{name}: {check.error or check.name}"
        for name, column in schema.columns.items()
        for check in column.checks
    )
    return [*(str(check.error or check.name) for check in schema.checks), *columns]


def validate_rows(
    frame: pl.DataFrame, schema: pa.DataFrameSchema, consequence: str = NOTHING_PUBLISHED
) -> pl.DataFrame:
    """Check every rule at once; collapse exact repeats; raise one report on failure.

    A bucket sent twice with the same numbers is collapsed to one row; sent twice with
    different numbers it fails the uniqueness rule. pandera runs some fifty small queries per
    call; polars' in-memory engine starts each in a third of the time the default takes.
    """
    with pl.Config(engine_affinity="in-memory"):
        try:
            return schema.validate(frame, lazy=True)
        except SchemaErrors as errors:
            repeats = frame.unique(maintain_order=True)
            if repeats.height == frame.height:
                raise _error(errors, frame, schema, consequence) from None
        try:
            return schema.validate(repeats, lazy=True)
        except SchemaErrors as errors:
            raise _error(errors, repeats, schema, consequence) from None


def rule_failures(frame: pl.DataFrame, schema: pa.DataFrameSchema) -> dict[str, list[int]]:
    """Each rule ``frame`` breaks, named as :func:`rules` names it, with the positions of the
    rows that break it; empty when every rule holds."""
    with pl.Config(engine_affinity="in-memory"):
        try:
            schema.validate(frame, lazy=True)
            return {}
        except SchemaErrors as errors:
            cases = errors.failure_cases
    return {
        rule: sorted({int(i) for i in group["index"].to_list() if i is not None})
        for rule, group in _broken(cases, schema).items()
    }


def split_unknown_stat_types(
    frame: pl.DataFrame, policy: UnknownStatTypes, consequence: str = NOTHING_PUBLISHED
) -> tuple[pl.DataFrame, dict[int, int]]:
    """Apply the unknown stat type policy; return the rows to keep and the unknown code counts."""
    unknown = ~frame["stat_type"].is_in(list(STAT_TYPES))
    counts = dict(frame.filter(unknown)["stat_type"].value_counts().iter_rows())
    if counts and policy == "fail":
        listed = ", ".join(f"{code} ({n} rows)" for code, n in sorted(counts.items()))
        raise FanslyDataError(
            f"unknown stat type(s) {listed}{consequence}. Register them with "
            "airflow_provider_fansly.storage.rules.register_stat_type or set unknown_stat_types="
            "'warn' or 'drop'",
            (UNKNOWN_STAT_TYPES_RULE,),
        )
    if counts and policy == "drop":
        frame = frame.filter(~unknown)
    return frame, {int(k): int(v) for k, v in counts.items()}


def validate_table(
    table: pyarrow.Table,
    schema: pa.DataFrameSchema,
    policy: UnknownStatTypes,
    consequence: str = NOTHING_PUBLISHED,
) -> tuple[pyarrow.Table, dict[int, int]]:
    """Apply the stat type policy and every rule to an Arrow table of rows.

    Return the rows to publish (the same table when nothing was dropped or collapsed) and the
    unknown stat type codes with their row counts.
    """
    frame = pl.from_arrow(table, rechunk=False)
    assert isinstance(frame, pl.DataFrame)
    frame, unknown = split_unknown_stat_types(frame, policy, consequence)
    checked = validate_rows(frame, schema, consequence)
    if checked.height == table.num_rows:
        return table, unknown
    return checked.to_arrow().cast(table.schema), unknown


def validate_by_media_offer(
    table: pyarrow.Table, schema: pa.DataFrameSchema, policy: UnknownStatTypes
) -> tuple[pyarrow.Table, dict[int, int], dict[str, FanslyDataError]]:
    """:func:`validate_table`, but a media offer whose rows break a rule is set apart.

    Return the rows of the media offers that pass, the unknown stat types, and the error of
    each media offer that does not (its report, and the rules it broke). Only a failing batch
    pays for checking offer by offer.
    """
    try:
        return (*validate_table(table, schema, policy), {})
    except FanslyDataError:
        pass
    passed: list[pyarrow.Table] = []
    unknown: dict[int, int] = {}
    failed: dict[str, FanslyDataError] = {}
    for media in sorted(set(table["media_offer_id"].to_pylist())):
        part = table.filter(pyarrow.compute.equal(table["media_offer_id"], media))
        try:
            checked, found = validate_table(part, schema, policy, consequence="")
        except FanslyDataError as error:
            failed[media] = error
            continue
        passed.append(checked)
        for code, rows in found.items():
            unknown[code] = unknown.get(code, 0) + rows
    rows = pyarrow.concat_tables(passed) if passed else table.schema.empty_table()
    return rows, unknown, failed
