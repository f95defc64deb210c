"""Data-quality rules for media statistics rows (pandera) and the stat type registry.

The rules a reader of the lake can rely on, in one place:

- ``stat_type`` is an integer >= 0; known codes are in :data:`STAT_TYPES` (extend it with
  :func:`register_stat_type`); what happens to unknown codes is the operator's
  ``unknown_stat_types`` policy (``warn`` keeps them, ``drop`` removes them, ``fail`` stops).
- ``bucket_start`` lies on the period's UTC grid and inside the requested window.
- every count is a non-negative integer; ``unique_viewers <= views`` and
  ``preview_unique_viewers <= preview_views``.
- one row per (account, media offer, bucket, stat type): an exact repeat is collapsed, a
  bucket sent twice with different numbers fails.
"""

from __future__ import annotations

from typing import Annotated, Literal

import pandas as pd
import pandera.pandas as pa
from pandera.errors import SchemaErrors
from pandera.typing import Series

from airflow_provider_fansly.exceptions import FanslyDataError

__all__ = [
    "KEY_COLUMNS",
    "STAT_TYPES",
    "MediaStatsRows",
    "UnknownStatTypes",
    "register_stat_type",
    "split_unknown_stat_types",
    "stat_type_name",
    "validate_rows",
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
UnknownStatTypes = Literal["warn", "fail", "drop"]
SAMPLE_ROWS = 5

Timestamp = Annotated[pd.DatetimeTZDtype, "ms", "UTC"]


def register_stat_type(code: int, name: str) -> None:
    """Teach the registry a stat type code, e.g. ``register_stat_type(5, "messages")``."""
    if not isinstance(code, int) or code < 0:
        raise ValueError(f"a stat type code is an integer >= 0, got {code!r}")
    STAT_TYPES[code] = name


def stat_type_name(code: int) -> str:
    """Return the registered name of a stat type, or ``unknown_<code>``."""
    return STAT_TYPES.get(code, f"unknown_{code}")


class MediaStatsRows(pa.DataFrameModel):
    """One row per media offer, bucket and traffic source; the static rules of the dataset."""

    account_id: Series[str] = pa.Field(str_length={"min_value": 1})
    media_offer_id: Series[str] = pa.Field(str_length={"min_value": 1})
    bucket_start: Series[Timestamp]
    stat_type: Series[pa.Int32] = pa.Field(ge=0)
    views: Series[pa.Int64] = pa.Field(ge=0)
    preview_views: Series[pa.Int64] = pa.Field(ge=0)
    interaction_time_ms: Series[pa.Int64] = pa.Field(ge=0)
    preview_interaction_time_ms: Series[pa.Int64] = pa.Field(ge=0)
    unique_viewers: Series[pa.Int64] = pa.Field(ge=0)
    preview_unique_viewers: Series[pa.Int64] = pa.Field(ge=0)
    fetched_at: Series[Timestamp]

    class Config:
        strict = True
        unique = KEY_COLUMNS

    @pa.dataframe_check(error="unique_viewers <= views")
    def unique_viewers_within_views(cls, df: pd.DataFrame) -> pd.Series:
        """A viewer counted as unique was also counted as a view."""
        return df["unique_viewers"] <= df["views"]

    @pa.dataframe_check(error="preview_unique_viewers <= preview_views")
    def preview_unique_within_preview_views(cls, df: pd.DataFrame) -> pd.Series:
        """The same rule for previews."""
        return df["preview_unique_viewers"] <= df["preview_views"]


def _window_checks(after: int, before: int, period: int) -> list[pa.Check]:
    def on_grid(s: pd.Series) -> pd.Series:
        return s.astype("int64") % period == 0

    def in_window(s: pd.Series) -> pd.Series:
        ms = s.astype("int64")
        return (ms >= after) & (ms < before)

    return [
        pa.Check(on_grid, element_wise=False, error=f"bucket_start on the {period} ms UTC grid"),
        pa.Check(in_window, element_wise=False, error=f"bucket_start inside [{after}, {before})"),
    ]


def _report(errors: SchemaErrors, frame: pd.DataFrame) -> str:
    cases = errors.failure_cases
    lines = [f"{len(cases)} value(s) failed data-quality validation; nothing was published:"]
    for (column, check), group in cases.groupby(["column", "check"], sort=False, dropna=False):
        index = [i for i in group["index"].tolist() if isinstance(i, int)][:SAMPLE_ROWS]
        lines.append(f"- {column}: {check} failed for {len(group)} value(s); sample rows:")
        sample = frame.loc[frame.index.intersection(index)] if index else group.head(SAMPLE_ROWS)
        lines.extend(f"    {row}" for row in sample.to_dict("records"))
    return "\n".join(lines)


def validate_rows(frame: pd.DataFrame, after: int, before: int, period: int) -> pd.DataFrame:
    """Collapse exact repeats, then check every rule at once; raise one report on failure."""
    frame = frame.drop_duplicates(ignore_index=True)
    schema = MediaStatsRows.to_schema()
    bucket = schema.columns["bucket_start"]
    schema = schema.update_column(
        "bucket_start", checks=[*bucket.checks, *_window_checks(after, before, period)]
    )
    try:
        return schema.validate(frame, lazy=True)
    except SchemaErrors as errors:
        raise FanslyDataError(_report(errors, frame)) from None


def split_unknown_stat_types(
    frame: pd.DataFrame, policy: UnknownStatTypes
) -> tuple[pd.DataFrame, dict[int, int]]:
    """Apply the unknown stat type policy; return the rows to keep and the unknown code counts."""
    unknown = ~frame["stat_type"].isin(list(STAT_TYPES))
    counts = {int(k): int(v) for k, v in frame.loc[unknown, "stat_type"].value_counts().items()}
    if counts and policy == "fail":
        listed = ", ".join(f"{code} ({n} rows)" for code, n in sorted(counts.items()))
        raise FanslyDataError(
            f"unknown stat type(s) {listed}; nothing was published. Register them with "
            "airflow_provider_fansly.schemas.register_stat_type or set unknown_stat_types="
            "'warn' or 'drop'"
        )
    if counts and policy == "drop":
        frame = frame.loc[~unknown].reset_index(drop=True)
    return frame, counts
