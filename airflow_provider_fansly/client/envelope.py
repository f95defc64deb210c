"""Parse the API's double envelope into typed results or one precise exception (pure, no I/O).

The vendor wraps every answer as ``{statusCode, message, data, timestamp}``; on success
``data`` wraps the platform's own answer again as ``{status_code, data: {success, response}}``.
Either layer can fail, and a proxy in front may answer with HTML instead of JSON.

The envelope is described here once, read two ways. The fast path (:func:`decode_success`)
decodes a whole successful answer with msgspec straight into typed structs: types are checked
in C while decoding. Anything it does not expect (an error, an unknown field, a float) goes to
the careful path (:func:`unwrap` then :func:`parse_dataset`), which walks generic JSON and
either accepts it or names the problem.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from itertools import chain, repeat
from typing import Any

import msgspec

from airflow_provider_fansly.client.aggregation import media_list, tag_names
from airflow_provider_fansly.client.datapoints import (
    VIDEO_FIELDS,
    Int64,
    Rows,
    StatStruct,
    checked_int,
    parse_datapoints,
)
from airflow_provider_fansly.client.models import FypTag, MediaOffer
from airflow_provider_fansly.exceptions import (
    FanslyAuthError,
    FanslyBadRequestError,
    FanslyCreditsExhaustedError,
    FanslyMalformedAnswerError,
    FanslyNotFoundError,
    FanslyRateLimitError,
    FanslyRequestError,
    FanslyServerError,
    FanslyUpstreamError,
    RequestContext,
)

__all__ = [
    "StatsResponse",
    "decode_success",
    "parse_dataset",
    "parse_media_stats",
    "retry_after_seconds",
    "unwrap",
]

_BY_STATUS: dict[int, tuple[type[FanslyRequestError], str]] = {
    400: (FanslyBadRequestError, "the API rejected the request parameters"),
    401: (FanslyAuthError, "the API key is missing or invalid"),
    402: (FanslyCreditsExhaustedError, "the plan's credits are used up"),
    403: (FanslyAuthError, "the API key may not read this account"),
    404: (FanslyNotFoundError, "the account or media offer was not found"),
}
_PERMANENT_UPSTREAM = "error getting graph"


@dataclass
class StatsResponse:
    """The parsed ``response`` of one media-statistics answer, every bucket of it.

    ``timestamps`` are every datapoint's start (quiet ones too) and ``rows`` the stat rows of
    all of them: which belong to the question is :mod:`.reconcile`'s call. ``path`` says
    which decoder read it: ``"fast"`` or ``"careful"``; ``video`` whether a stat may carry a
    video field (so that answers without any skip building those columns).
    """

    period: int
    date_after: int
    date_before: int
    datapoint_limit: int | None
    media_offer_id: str | None
    timestamps: list[int]
    rows: Rows
    media: list[MediaOffer]
    unknown_fields: set[str]
    path: str
    video: bool = False
    #: ``dataset.topFypTags``: the tags that brought For-You-page traffic over the answer
    tags: list[FypTag] = field(default_factory=list)


# -- the fast path: one typed decode of a successful answer ------------------------------
class _Point(msgspec.Struct, gc=False):  # an int and a list of ints: no cycles
    timestamp: Int64
    stats: list[StatStruct] = []  # type: ignore[valid-type]


class _Tag(msgspec.Struct, forbid_unknown_fields=True, gc=False):
    tagId: str
    views: Int64
    previewViews: Int64
    interactionTime: Int64
    previewInteractionTime: Int64


class _Dataset(msgspec.Struct):
    period: int
    dateBefore: int
    dateAfter: int
    datapoints: list[_Point]
    datapointLimit: int | None = None
    datasetMediaOfferId: str | None = None
    topFypTags: list[_Tag] | None = None


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


_DECODER = msgspec.json.Decoder(_Outer)
#: A part of every video field's name: a body without it carries none (one scan of the body).
_VIDEO_MARK = b"ideo"
assert all(_VIDEO_MARK.decode() in name for name in VIDEO_FIELDS)
#: Generic JSON for the careful path: dicts, lists and Python ints of any size.
_JSON = msgspec.json.Decoder()


def decode_success(body: bytes) -> StatsResponse | None:
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
    stamps = [p.timestamp for p in dataset.datapoints]
    stats = [p.stats for p in dataset.datapoints]
    times = chain.from_iterable(map(repeat, stamps, map(len, stats)))
    aggregation = _load(bytes(platform.response.aggregationData))
    names = tag_names(aggregation)
    return StatsResponse(
        period=dataset.period,
        date_after=dataset.dateAfter,
        date_before=dataset.dateBefore,
        datapoint_limit=dataset.datapointLimit,
        media_offer_id=dataset.datasetMediaOfferId,
        timestamps=stamps,
        rows=Rows(list(times), list(chain.from_iterable(stats))),
        media=media_list(aggregation),
        unknown_fields=set(),
        path="fast",
        video=_VIDEO_MARK in body,
        tags=[_fyp_tag(t, names) for t in dataset.topFypTags or ()],
    )


def _fyp_tag(tag: _Tag, names: dict[str, str]) -> FypTag:
    return FypTag(
        tag.tagId,
        names.get(tag.tagId),
        tag.views,
        tag.previewViews,
        tag.interactionTime,
        tag.previewInteractionTime,
    )


# -- the careful path ----------------------------------------------------------------------
def retry_after_seconds(headers: Mapping[str, str]) -> float | None:
    """Return the server's retry advice: ``X-RateLimit-Retry-After``, then ``Retry-After``."""
    for name in ("x-ratelimit-retry-after", "retry-after"):
        value = headers.get(name)
        if value is None:
            continue
        try:
            seconds = float(value)
        except ValueError:
            continue
        if seconds >= 0:
            return seconds
    return None


def _load(body: bytes) -> Any:
    try:
        return _JSON.decode(body)
    except msgspec.DecodeError:
        return None


def _message(outer: Any) -> str | None:
    if isinstance(outer, dict) and isinstance(outer.get("message"), str):
        return outer["message"]
    return None


def _outer_error(
    status: int, outer: Any, headers: Mapping[str, str], ctx: RequestContext
) -> FanslyRequestError:
    message = _message(outer)
    if status == 429:
        return FanslyRateLimitError(
            "rate limit exceeded",
            ctx,
            status_code=status,
            api_message=message,
            retry_after=retry_after_seconds(headers),
        )
    if status in _BY_STATUS:
        cls, summary = _BY_STATUS[status]
        return cls(summary, ctx, status_code=status, api_message=message)
    if message and _PERMANENT_UPSTREAM in message.lower():
        return FanslyUpstreamError(
            "the platform failed for good (deleted media offer or refused time span; "
            "retrying cannot help)",
            ctx,
            status_code=status,
            api_message=message,
            upstream_status=status,
            permanent=True,
        )
    if status >= 500:
        shown = message or ("non-JSON body" if outer is None else None)
        return FanslyServerError(
            "the API answered with a server error", ctx, status_code=status, api_message=shown
        )
    return FanslyBadRequestError(
        "the API refused the request", ctx, status_code=status, api_message=message
    )


def _upstream_error(inner: dict[str, Any], ctx: RequestContext, status: int) -> FanslyUpstreamError:
    upstream_status = inner.get("status_code")
    platform = inner.get("data")
    message = None
    if isinstance(platform, dict) and isinstance(platform.get("error"), dict):
        message = platform["error"].get("message")
    message = str(message) if message is not None else None
    permanent = bool(message and _PERMANENT_UPSTREAM in message.lower())
    if not permanent and isinstance(upstream_status, int) and 400 <= upstream_status < 500:
        permanent = upstream_status != 429
    summary = "the platform behind the API failed"
    if permanent:
        summary += " for good (deleted media offer or refused time span; retrying cannot help)"
    return FanslyUpstreamError(
        summary,
        ctx,
        status_code=status,
        api_message=message,
        upstream_status=upstream_status if isinstance(upstream_status, int) else None,
        permanent=permanent,
    )


def unwrap(status: int, body: bytes, headers: Mapping[str, str], ctx: RequestContext) -> Any:
    """Return the payload inside both envelopes, or raise the one matching exception.

    For a platform answer that is ``data.data.response``; for the vendor's own routes (like
    ``/api/fansly/accounts``), whose ``data`` is not wrapped again, it is ``data`` itself.
    """
    outer = _load(body)
    if status != 200 or not isinstance(outer, dict) or outer.get("statusCode", 200) != 200:
        if status == 200 and isinstance(outer, dict) and isinstance(outer.get("statusCode"), int):
            status = outer["statusCode"]
        if status == 200:
            raise FanslyMalformedAnswerError(
                "the answer is not the API's JSON envelope", ctx, status_code=200
            )
        raise _outer_error(status, outer, headers, ctx)
    data = outer.get("data")
    if not (isinstance(data, dict) and "status_code" in data):
        if data is None:
            raise FanslyMalformedAnswerError("the envelope has no data", ctx, status_code=status)
        return data
    inner = data.get("data")
    if (
        data.get("status_code") != 200
        or not isinstance(inner, dict)
        or inner.get("success") is not True
    ):
        raise _upstream_error(data, ctx, status)
    if "response" not in inner:
        raise FanslyMalformedAnswerError(
            "the platform answer has no response", ctx, status_code=status
        )
    return inner["response"]


_TAG_COUNTS = ("views", "previewViews", "interactionTime", "previewInteractionTime")


def _parse_tags(raw: Any, names: dict[str, str], ctx: RequestContext) -> list[FypTag]:
    """``dataset.topFypTags`` checked: a list of ``{tagId, views, previewViews,
    interactionTime, previewInteractionTime}`` (a numeric ``tagId`` is read as text)."""
    if raw is None:
        return []
    if type(raw) is not list:
        raise FanslyMalformedAnswerError("dataset.topFypTags is not a list", ctx)
    tags = []
    for tag in raw:
        if type(tag) is not dict or type(tag.get("tagId")) not in (str, int):
            raise FanslyMalformedAnswerError("a topFypTags entry has no tagId", ctx)
        tag_id = str(tag["tagId"])
        counts = (checked_int(tag.get(k), f"topFypTags {k}", ctx) for k in _TAG_COUNTS)
        tags.append(FypTag(tag_id, names.get(tag_id), *counts))
    return tags


def _optional_int(dataset: dict[str, Any], key: str, ctx: RequestContext) -> int | None:
    return None if dataset.get(key) is None else checked_int(dataset[key], f"dataset.{key}", ctx)


def parse_dataset(response: Any, ctx: RequestContext) -> StatsResponse:
    """Turn a media-statistics ``response`` into a :class:`StatsResponse`, checking every type."""
    dataset = response.get("dataset") if isinstance(response, dict) else None
    if not isinstance(dataset, dict) or "datapoints" not in dataset:
        raise FanslyMalformedAnswerError("the answer has no dataset.datapoints", ctx)
    rows, unknown, stamps = parse_datapoints(dataset["datapoints"], ctx)
    media_offer = dataset.get("datasetMediaOfferId")
    aggregation = response.get("aggregationData")
    return StatsResponse(
        period=checked_int(dataset.get("period"), "dataset.period", ctx),
        date_after=checked_int(dataset.get("dateAfter"), "dataset.dateAfter", ctx),
        date_before=checked_int(dataset.get("dateBefore"), "dataset.dateBefore", ctx),
        datapoint_limit=_optional_int(dataset, "datapointLimit", ctx),
        media_offer_id=media_offer if isinstance(media_offer, str) else None,
        timestamps=stamps,
        rows=rows,
        media=media_list(aggregation),
        unknown_fields=unknown,
        path="careful",
        video=any(getattr(s, f) is not None for s in rows.stats for f in VIDEO_FIELDS),
        tags=_parse_tags(dataset.get("topFypTags"), tag_names(aggregation), ctx),
    )


def parse_media_stats(
    status: int, body: bytes, headers: Mapping[str, str], ctx: RequestContext
) -> StatsResponse:
    """Parse one media-statistics answer: the typed fast path, else the careful one."""
    fast = decode_success(body) if status == 200 else None
    return fast if fast is not None else parse_dataset(unwrap(status, body, headers, ctx), ctx)
