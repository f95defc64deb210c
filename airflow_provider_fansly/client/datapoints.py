"""The stat fields, their typed struct, and the careful parse of ``datapoints`` (pure).

:data:`STAT_COLUMNS` names the counters once. :data:`StatStruct` is what the fast decoder in
:mod:`.envelope` checks each stat against while decoding; :func:`parse_datapoints` is the
careful path for anything that decoder does not expect, accepting it or naming the problem.
"""

from __future__ import annotations

import math
from typing import Annotated, Any, NamedTuple

import msgspec

from airflow_provider_fansly.exceptions import FanslyMalformedAnswerError, RequestContext

__all__ = [
    "API_COLUMNS",
    "COUNT_COLUMNS",
    "STAT_COLUMNS",
    "STAT_FIELDS",
    "VIDEO_COLUMNS",
    "VIDEO_COUNTS",
    "VIDEO_FIELDS",
    "Int32",
    "Int64",
    "Rows",
    "StatStruct",
    "checked_float",
    "checked_int",
    "parse_datapoints",
]

#: The one naming of the counters: the API's name of each field -> its column in the lake,
#: in column order. The decoder, the schemas, the writer and the emulator derive theirs.
STAT_COLUMNS = {
    "views": "views",
    "previewViews": "preview_views",
    "interactionTime": "interaction_time_ms",
    "previewInteractionTime": "preview_interaction_time_ms",
    "uniqueViewers": "unique_viewers",
    "previewUniqueViewers": "preview_unique_viewers",
}
STAT_FIELDS = tuple(STAT_COLUMNS)
#: Video fields some answers carry for videos (seen on the platform's account-level stats;
#: unverified on this route): the API's name -> its column, each nullable in the lake (absent
#: is null, never 0). The percent totals are sums of percentages over the views (floats).
VIDEO_COLUMNS = {
    "videoViews": "video_views",
    "totalVideoPercentWatched": "video_percent_watched_total",
    "previewVideoViews": "preview_video_views",
    "previewTotalVideoPercentWatched": "preview_video_percent_watched_total",
}
VIDEO_FIELDS = tuple(VIDEO_COLUMNS)
#: The video fields that are counts (integers); the others are float totals.
VIDEO_COUNTS = ("videoViews", "previewVideoViews")
#: Every field of a stat object -> its column, the traffic source ``type`` included.
API_COLUMNS = {"type": "stat_type", **STAT_COLUMNS, **VIDEO_COLUMNS}
COUNT_COLUMNS = tuple(STAT_COLUMNS.values())

_KEYS = ("type", *STAT_FIELDS)
_KNOWN = frozenset((*_KEYS, *VIDEO_FIELDS))
_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)
Int64 = Annotated[int, msgspec.Meta(ge=_INT64[0], le=_INT64[1])]
Int32 = Annotated[int, msgspec.Meta(ge=_INT32[0], le=_INT32[1])]


#: One stat object as the API sends it: a traffic source ``type`` and the counters, typed and
#: range-checked by msgspec while decoding (fields derived from :data:`STAT_COLUMNS`).
StatStruct: type[msgspec.Struct] = msgspec.defstruct(
    "StatStruct",
    [
        ("type", Int32),
        *((name, Int64) for name in STAT_FIELDS),
        *(
            (name, Int64 | None if name in VIDEO_COUNTS else float | None, None)
            for name in VIDEO_FIELDS
        ),
        ("extra", str | None, None),
    ],
    # ``extra`` is filled by the careful path only (numbers of fields this release does not
    # know, as JSON), under a name no answer uses
    rename={"extra": "__airflow_provider_fansly_extra__"},
    forbid_unknown_fields=True,
    gc=False,  # only ints: nothing to collect, and untracked structs allocate faster
    module=__name__,
)


class Rows(NamedTuple):
    """Stat rows, columnar: one bucket start and one :class:`StatStruct` per row."""

    times: list[int]
    stats: list[Any]


def checked_int(
    value: Any, what: str, ctx: RequestContext, bounds: tuple[int, int] = _INT64
) -> int:
    """Return ``value`` as an int in ``bounds`` (integral floats accepted), or raise malformed."""
    if type(value) is float and value.is_integer():
        value = int(value)
    if type(value) is not int:
        raise FanslyMalformedAnswerError(f"{what} is not an integer: {value!r:.40}", ctx)
    if not bounds[0] <= value <= bounds[1]:
        raise FanslyMalformedAnswerError(f"{what} is out of range: {value}", ctx)
    return value


def checked_float(value: Any, what: str, ctx: RequestContext) -> float:
    """Return ``value`` as a finite float (integers accepted), or raise malformed."""
    if type(value) is int and _INT64[0] <= value <= _INT64[1]:
        return float(value)
    if type(value) is not float or value != value or value in (float("inf"), float("-inf")):
        raise FanslyMalformedAnswerError(f"{what} is not a number: {value!r:.40}", ctx)
    return value


def _video(stat: dict[str, Any], name: str, ctx: RequestContext) -> int | float | None:
    value = stat.get(name)
    if value is None:
        return None
    if name in VIDEO_COUNTS:
        return checked_int(value, f"stat {name}", ctx)
    return checked_float(value, f"stat {name}", ctx)


def _extra(stat: dict[str, Any]) -> str | None:
    """The numbers of fields this release does not know, as a JSON object with every digit
    (an integer above 2**53 included); ``None`` when there are none."""
    numbers = {
        k: v
        for k, v in stat.items()
        if k not in _KNOWN and type(v) in (int, float) and math.isfinite(v)
    }
    return msgspec.json.encode(dict(sorted(numbers.items()))).decode() if numbers else None


def _stat(stat: Any, ctx: RequestContext) -> Any:
    if type(stat) is not dict:
        raise FanslyMalformedAnswerError("a stat is not an object", ctx)
    missing = [k for k in _KEYS if k not in stat]
    if missing:
        raise FanslyMalformedAnswerError(f"a stat has no {missing[0]!r}", ctx)
    return StatStruct(
        *(checked_int(stat[k], f"stat {k}", ctx, _INT32 if k == "type" else _INT64) for k in _KEYS),
        *(_video(stat, name, ctx) for name in VIDEO_FIELDS),
        _extra(stat),
    )


def parse_datapoints(points: Any, ctx: RequestContext) -> tuple[Rows, set[str], list[int]]:
    """Return the rows of ``points``, the unknown stat fields and every bucket's start.

    The careful path: raise :class:`FanslyMalformedAnswerError` for anything that is not
    integers in the documented shape. Every bucket is returned; which belong to the request
    is decided by :mod:`.reconcile`.
    """
    if type(points) is not list:
        raise FanslyMalformedAnswerError("the answer's datapoints is not a list", ctx)
    rows = Rows([], [])
    unknown: set[str] = set()
    stamps: list[int] = []
    for point in points:
        if type(point) is not dict or "timestamp" not in point:
            raise FanslyMalformedAnswerError("a datapoint is not {timestamp, stats}", ctx)
        ts = checked_int(point["timestamp"], "a datapoint timestamp", ctx)
        stats = point.get("stats", [])
        if type(stats) is not list:
            raise FanslyMalformedAnswerError("a datapoint's stats is not a list", ctx)
        parsed = [_stat(stat, ctx) for stat in stats]
        unknown.update(k for stat in stats for k in stat if k not in _KNOWN)
        stamps.append(ts)
        rows.times.extend([ts] * len(parsed))
        rows.stats.extend(parsed)
    return rows, unknown, stamps
