"""Turn an answer's ``datapoints`` into rows: ``(bucket start, (type, *counts))`` (pure).

Two paths give the same rows. The fast one decodes a whole successful answer with msgspec
straight into typed structs: types are checked in C while decoding, so no Python step
touches a value. Anything it does not expect (an error, an unknown field, a float) goes to
the careful path, which parses generic JSON and either accepts it or names the problem.
"""

from __future__ import annotations

from itertools import chain, repeat
from typing import Annotated, Any, NamedTuple

import msgspec

from airflow_provider_fansly.exceptions import FanslyMalformedAnswerError, RequestContext
from airflow_provider_fansly.windows import Window

__all__ = [
    "STAT_FIELDS",
    "FastAnswer",
    "Rows",
    "StatStruct",
    "checked_int",
    "decode_success",
    "parse_datapoints",
]

#: The API's names of the counters of one stat object, in column order.
STAT_FIELDS = (
    "views",
    "previewViews",
    "interactionTime",
    "previewInteractionTime",
    "uniqueViewers",
    "previewUniqueViewers",
)

_KEYS = ("type", *STAT_FIELDS)
_KNOWN = frozenset(_KEYS)
_INT64 = (-(2**63), 2**63 - 1)
_INT32 = (-(2**31), 2**31 - 1)
Int64 = Annotated[int, msgspec.Meta(ge=_INT64[0], le=_INT64[1])]
Int32 = Annotated[int, msgspec.Meta(ge=_INT32[0], le=_INT32[1])]


class StatStruct(msgspec.Struct, forbid_unknown_fields=True):
    """One stat object as the API sends it: a traffic source ``type`` and six counters."""

    type: Int32
    views: Int64
    previewViews: Int64
    interactionTime: Int64
    previewInteractionTime: Int64
    uniqueViewers: Int64
    previewUniqueViewers: Int64


class Rows(NamedTuple):
    """Stat rows, columnar: one bucket start and one :class:`StatStruct` per row."""

    times: list[int]
    stats: list[StatStruct]


class _Point(msgspec.Struct):
    timestamp: Int64
    stats: list[StatStruct] = []


class _Dataset(msgspec.Struct):
    period: int
    dateBefore: int
    dateAfter: int
    datapoints: list[_Point]


class _Response(msgspec.Struct):
    dataset: _Dataset
    aggregationData: msgspec.Raw = msgspec.Raw(b"null")


class _Platform(msgspec.Struct):
    success: bool
    response: _Response | None = None


class _Inner(msgspec.Struct):
    status_code: int
    data: _Platform | None = None


class _Outer(msgspec.Struct):
    statusCode: int
    data: _Inner | None = None


class FastAnswer(NamedTuple):
    """A successful answer decoded by the fast path."""

    period: int
    date_after: int
    date_before: int
    rows: Rows
    aggregation: bytes


_DECODER = msgspec.json.Decoder(_Outer)


def decode_success(body: bytes, window: Window) -> FastAnswer | None:
    """Decode a successful answer in one typed pass; ``None`` when it is not one."""
    try:
        outer = _DECODER.decode(body)
    except (msgspec.DecodeError, msgspec.ValidationError):
        return None
    inner = outer.data
    platform = inner.data if inner is not None and inner.status_code == 200 else None
    if outer.statusCode != 200 or platform is None or not platform.success:
        return None
    if platform.response is None:
        return None
    dataset = platform.response.dataset
    lo, hi = window
    points = [p for p in dataset.datapoints if lo <= p.timestamp < hi]
    stats = [p.stats for p in points]
    times = chain.from_iterable(map(repeat, [p.timestamp for p in points], map(len, stats)))
    rows = Rows(list(times), list(chain.from_iterable(stats)))
    return FastAnswer(
        dataset.period,
        dataset.dateAfter,
        dataset.dateBefore,
        rows,
        bytes(platform.response.aggregationData),
    )


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


def _stat(stat: Any, ctx: RequestContext) -> StatStruct:
    if type(stat) is not dict:
        raise FanslyMalformedAnswerError("a stat is not an object", ctx)
    missing = [k for k in _KEYS if k not in stat]
    if missing:
        raise FanslyMalformedAnswerError(f"a stat has no {missing[0]!r}", ctx)
    return StatStruct(
        *(checked_int(stat[k], f"stat {k}", ctx, _INT32 if k == "type" else _INT64) for k in _KEYS)
    )


def parse_datapoints(
    points: Any, ctx: RequestContext, window: Window | None = None
) -> tuple[Rows, set[str]]:
    """Return the rows of ``points`` and the unknown stat fields (the careful path).

    Only buckets that start inside ``window`` (``[lo, hi)``; all when ``None``) are kept: the
    API also sends the bucket at ``beforeDate``. Raise :class:`FanslyMalformedAnswerError`
    for anything that is not integers in the documented shape.
    """
    if type(points) is not list:
        raise FanslyMalformedAnswerError("the answer's datapoints is not a list", ctx)
    lo, hi = window or _INT64
    rows = Rows([], [])
    unknown: set[str] = set()
    for point in points:
        if type(point) is not dict or "timestamp" not in point:
            raise FanslyMalformedAnswerError("a datapoint is not {timestamp, stats}", ctx)
        ts = checked_int(point["timestamp"], "a datapoint timestamp", ctx)
        stats = point.get("stats", [])
        if type(stats) is not list:
            raise FanslyMalformedAnswerError("a datapoint's stats is not a list", ctx)
        parsed = [_stat(stat, ctx) for stat in stats]
        unknown.update(k for stat in stats for k in stat if k not in _KNOWN)
        if lo <= ts < hi:
            rows.times.extend([ts] * len(parsed))
            rows.stats.extend(parsed)
    return rows, unknown
