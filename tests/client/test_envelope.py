"""The double envelope, shape by shape, and a property test over arbitrary input."""

from __future__ import annotations

import contextlib
import json
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from airflow_provider_fansly import exceptions as exc
from airflow_provider_fansly.client.datapoints import STAT_FIELDS, VIDEO_FIELDS
from airflow_provider_fansly.client.envelope import (
    parse_dataset,
    parse_media_stats,
    retry_after_seconds,
    unwrap,
)
from airflow_provider_fansly.exceptions import RequestContext

CTX = RequestContext("media statistics", "acc", "m1", 0, 86_400_000, 86_400_000)
STAT = {
    "type": 1,
    "views": 3,
    "previewViews": 0,
    "interactionTime": 750,
    "previewInteractionTime": 0,
    "uniqueViewers": 1,
    "previewUniqueViewers": 0,
}


VIDEO = {
    "videoViews": 2,
    "totalVideoPercentWatched": 184.62,
    "previewVideoViews": 0,
    "previewTotalVideoPercentWatched": 0.0,
}


def ok(response: Any) -> dict[str, Any]:
    inner = {"status_code": 200, "data": {"success": True, "response": response}}
    return {"statusCode": 200, "message": "Success", "data": inner, "timestamp": "t"}


def err(status: int, message: str = "boom") -> dict[str, Any]:
    return {"statusCode": status, "message": message, "data": None, "timestamp": "t"}


def dataset(points: list[Any], **over: Any) -> dict[str, Any]:
    ds = {
        "period": 86_400_000,
        "dateBefore": 86_400_000,
        "dateAfter": 0,
        "datapointLimit": 100,
        "datapoints": points,
        "datasetMediaOfferId": "m1",
        **over,
    }
    return {"dataset": ds, "aggregationData": {"accountMedia": []}}


def rows(parsed: Any) -> list[tuple[int, ...]]:
    """The parsed rows as plain tuples: (bucket ms, type, six counts, four video fields)."""
    keys = ("type", *STAT_FIELDS, *VIDEO_FIELDS)
    stats = parsed.rows.stats
    return [
        (t, *(getattr(s, k) for k in keys)) for t, s in zip(parsed.rows.times, stats, strict=True)
    ]


def body(payload: Any) -> bytes:
    return payload if isinstance(payload, bytes) else json.dumps(payload).encode()


UPSTREAM_GRAPH = {
    "statusCode": 200,
    "message": "Success",
    "timestamp": "t",
    "data": {
        "status_code": 500,
        "data": {"success": False, "error": {"code": 99, "message": "error getting graph"}},
    },
}
UPSTREAM_429 = {
    "statusCode": 200,
    "message": "Success",
    "timestamp": "t",
    "data": {
        "status_code": 429,
        "data": {"success": False, "error": {"code": 1, "message": "slow down"}},
    },
}
INNER_FALSE = {
    "statusCode": 200,
    "message": "Success",
    "timestamp": "t",
    "data": {"status_code": 200, "data": {"success": False, "response": {}}},
}

FAILURES = [
    ("400", 400, err(400), exc.FanslyBadRequestError),
    ("401", 401, err(401), exc.FanslyAuthError),
    ("403", 403, err(403), exc.FanslyAuthError),
    ("404", 404, err(404), exc.FanslyNotFoundError),
    ("402-credits", 402, err(402), exc.FanslyCreditsExhaustedError),
    ("429", 429, err(429), exc.FanslyRateLimitError),
    ("500", 500, err(500), exc.FanslyServerError),
    ("503-html", 503, b"<html>Service Unavailable</html>", exc.FanslyServerError),
    ("502-html", 502, b"<html>502 Bad Gateway</html>", exc.FanslyServerError),
    ("outer-500-graph", 500, err(500, "error getting graph"), exc.FanslyUpstreamError),
    ("inner-500-graph", 200, UPSTREAM_GRAPH, exc.FanslyUpstreamError),
    ("inner-429", 200, UPSTREAM_429, exc.FanslyUpstreamError),
    ("inner-success-false", 200, INNER_FALSE, exc.FanslyUpstreamError),
    ("outer-200-body-says-401", 200, err(401), exc.FanslyAuthError),
    ("html-200", 200, b"<html>hello</html>", exc.FanslyMalformedAnswerError),
    ("truncated", 200, body(ok(dataset([])))[:40], exc.FanslyMalformedAnswerError),
    ("empty-body", 200, b"", exc.FanslyMalformedAnswerError),
    (
        "data-null",
        200,
        {"statusCode": 200, "message": "x", "data": None},
        exc.FanslyMalformedAnswerError,
    ),
    (
        "no-response",
        200,
        {"statusCode": 200, "data": {"status_code": 200, "data": {"success": True}}},
        exc.FanslyMalformedAnswerError,
    ),
]


@pytest.mark.parametrize(
    ("status", "payload", "expected"), [f[1:] for f in FAILURES], ids=[f[0] for f in FAILURES]
)
def test_each_failure_shape_raises_its_exception(status: int, payload: Any, expected: type) -> None:
    with pytest.raises(expected) as info:
        unwrap(status, body(payload), {}, CTX)
    assert type(info.value) is expected
    assert "media offer=m1" in str(info.value)
    assert "window=[0, 86400000)" in str(info.value)


def test_permanent_upstream_error_is_marked_permanent() -> None:
    with pytest.raises(exc.FanslyUpstreamError) as info:
        unwrap(200, body(UPSTREAM_GRAPH), {}, CTX)
    assert info.value.permanent and info.value.upstream_status == 500
    with pytest.raises(exc.FanslyUpstreamError) as passing:
        unwrap(200, body(UPSTREAM_429), {}, CTX)
    assert not passing.value.permanent


def test_rate_limit_carries_the_servers_advice() -> None:
    with pytest.raises(exc.FanslyRateLimitError) as info:
        unwrap(429, body(err(429)), {"x-ratelimit-retry-after": "7"}, CTX)
    assert info.value.retry_after == 7


@pytest.mark.parametrize(
    ("headers", "expected"),
    [
        ({"x-ratelimit-retry-after": "3"}, 3.0),
        ({"retry-after": "2.5"}, 2.5),
        ({"x-ratelimit-retry-after": "soon", "retry-after": "4"}, 4.0),
        ({}, None),
        ({"retry-after": "-1"}, None),
    ],
    ids=["vendor-header", "standard-header", "fallback", "none", "negative"],
)
def test_retry_after_header_order(headers: dict[str, str], expected: float | None) -> None:
    assert retry_after_seconds(headers) == expected


def test_integral_floats_are_accepted_as_integers() -> None:
    response = dataset([{"timestamp": 0.0, "stats": [{**STAT, "views": 3.0}]}])
    parsed = parse_dataset(unwrap(200, body(ok(response)), {}, CTX), CTX)
    assert rows(parsed) == [(0, 1, 3, 0, 750, 0, 1, 0, None, None, None, None)]


def test_success_parses_datapoints_media_and_unknown_fields() -> None:
    extra = {**STAT, "brandNewMetric": 5}
    media = {
        "id": "m1",
        "accountId": "acc",
        "price": 100,
        "likeCount": 3,
        "createdAt": 17,
        "deleted": False,
        "media": {"mimetype": "image/jpeg", "width": 10, "height": 20},
    }
    response = dataset([{"timestamp": 86_400_000, "stats": []}, {"timestamp": 0, "stats": [extra]}])
    response["aggregationData"]["accountMedia"] = [media, "junk"]
    parsed = parse_dataset(unwrap(200, body(ok(response)), {}, CTX), CTX)
    assert rows(parsed) == [(0, 1, 3, 0, 750, 0, 1, 0, None, None, None, None)]
    assert parsed.unknown_fields == {"brandNewMetric"}
    assert parsed.media[0].mimetype == "image/jpeg" and parsed.media[0].price == 100
    assert len(parsed.media) == 1


BAD_DATASETS = [
    ("no-dataset", {"aggregationData": {}}),
    ("datapoints-not-list", dataset("nope")),  # type: ignore[arg-type]
    ("timestamp-missing", dataset([{"stats": []}])),
    ("timestamp-string", dataset([{"timestamp": "x", "stats": []}])),
    ("stats-not-list", dataset([{"timestamp": 0, "stats": {}}])),
    ("stat-not-object", dataset([{"timestamp": 0, "stats": [3]}])),
    ("stat-missing-views", dataset([{"timestamp": 0, "stats": [{"type": 1}]}])),
    ("count-string", dataset([{"timestamp": 0, "stats": [{**STAT, "views": "many"}]}])),
    ("count-fraction", dataset([{"timestamp": 0, "stats": [{**STAT, "views": 1.5}]}])),
    ("count-list", dataset([{"timestamp": 0, "stats": [{**STAT, "views": [1]}]}])),
    ("count-bool", dataset([{"timestamp": 0, "stats": [{**STAT, "views": True}]}])),
    ("count-null", dataset([{"timestamp": 0, "stats": [{**STAT, "views": None}]}])),
    ("count-huge", dataset([{"timestamp": 0, "stats": [{**STAT, "views": 2**70}]}])),
    ("type-huge", dataset([{"timestamp": 0, "stats": [{**STAT, "type": 2**40}]}])),
    ("period-missing", dataset([], period=None)),
]


@pytest.mark.parametrize("response", [b[1] for b in BAD_DATASETS], ids=[b[0] for b in BAD_DATASETS])
def test_malformed_datasets_raise_malformed(response: Any) -> None:
    with pytest.raises(exc.FanslyMalformedAnswerError):
        parse_dataset(unwrap(200, body(ok(response)), {}, CTX), CTX)


json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | st.text(),
    lambda inner: st.lists(inner) | st.dictionaries(st.text(), inner),
    max_leaves=20,
)


@settings(max_examples=300, deadline=None)
@given(
    status=st.sampled_from([200, 400, 401, 402, 403, 404, 429, 500, 502, 503, 301]),
    raw=st.binary(max_size=200),
)
def test_arbitrary_bytes_only_raise_documented_errors(status: int, raw: bytes) -> None:
    with contextlib.suppress(exc.FanslyRequestError):
        parse_dataset(unwrap(status, raw, {}, CTX), CTX)


@settings(max_examples=300, deadline=None)
@given(
    status=st.sampled_from([200, 429, 500]),
    value=json_values,
    where=st.sampled_from(["outer", "data", "inner", "response", "dataset"]),
)
def test_arbitrary_json_only_raises_documented_errors(status: int, value: Any, where: str) -> None:
    payload: Any = {
        "outer": value,
        "data": {"statusCode": 200, "data": value},
        "inner": {"statusCode": 200, "data": {"status_code": 200, "data": value}},
        "response": ok(value),
        "dataset": ok({"dataset": value}),
    }[where]
    with contextlib.suppress(exc.FanslyRequestError):
        parse_dataset(unwrap(status, body(payload), {}, CTX), CTX)


FAST_AND_CAREFUL = [
    ("plain", [{"timestamp": 0, "stats": [STAT]}, {"timestamp": 86_400_000, "stats": []}], "fast"),
    ("quiet-only", [{"timestamp": 0, "stats": []}], "fast"),
    (
        "boundary",
        [{"timestamp": 86_400_000, "stats": [STAT]}, {"timestamp": 0, "stats": [STAT]}],
        "fast",
    ),
    ("no-stats-key", [{"timestamp": 0}], "fast"),
    ("new-field", [{"timestamp": 0, "stats": [{**STAT, "brandNew": 1}]}], "careful"),
    ("float-count", [{"timestamp": 0, "stats": [{**STAT, "views": 3.0}]}], "careful"),
    ("video", [{"timestamp": 0, "stats": [{**STAT, **VIDEO}, STAT]}], "fast"),
    (
        "video-int-percent",
        [{"timestamp": 0, "stats": [{**STAT, **VIDEO, "totalVideoPercentWatched": 184}]}],
        "fast",
    ),
]


@pytest.mark.parametrize(
    ("points", "path"),
    [f[1:] for f in FAST_AND_CAREFUL],
    ids=[f[0] for f in FAST_AND_CAREFUL],
)
def test_the_fast_and_careful_paths_agree(points: list[Any], path: str) -> None:
    raw = body(ok(dataset(points)))
    answer = parse_media_stats(200, raw, {}, CTX)
    careful = parse_dataset(unwrap(200, raw, {}, CTX), CTX)
    assert answer.path == path and careful.path == "careful"  # the path meant to read it did
    assert rows(answer) == rows(careful)
    assert answer.timestamps == careful.timestamps == [p["timestamp"] for p in points]
    assert answer.unknown_fields == careful.unknown_fields
    assert (answer.period, answer.datapoint_limit, answer.media_offer_id) == (
        careful.period,
        careful.datapoint_limit,
        careful.media_offer_id,
    )


@settings(max_examples=200, deadline=None)
@given(status=st.sampled_from([200, 500]), value=json_values)
def test_parse_media_stats_only_raises_documented_errors(status: int, value: Any) -> None:
    for payload in (
        value,
        ok({"dataset": {"period": 1, "dateBefore": 1, "dateAfter": 0, "datapoints": value}}),
    ):
        with contextlib.suppress(exc.FanslyRequestError):
            parse_media_stats(status, body(payload), {}, CTX)


def test_video_fields_are_read_where_sent_and_none_where_not() -> None:
    answer = parse_media_stats(
        200, body(ok(dataset([{"timestamp": 0, "stats": [{**STAT, **VIDEO}, STAT]}]))), {}, CTX
    )
    with_video, without = answer.rows.stats
    assert (with_video.videoViews, with_video.totalVideoPercentWatched) == (2, 184.62)
    assert without.videoViews is None and without.totalVideoPercentWatched is None
    assert answer.video
    plain = parse_media_stats(200, body(ok(dataset([{"timestamp": 0, "stats": [STAT]}]))), {}, CTX)
    assert not plain.video  # its rows skip building the video columns


@pytest.mark.parametrize("value", ["many", True, [1]])
def test_a_video_field_that_is_no_number_is_malformed(value: Any) -> None:
    points = [{"timestamp": 0, "stats": [{**STAT, "videoViews": value}]}]
    with pytest.raises(exc.FanslyMalformedAnswerError, match="videoViews"):
        parse_media_stats(200, body(ok(dataset(points))), {}, CTX)


def test_new_numbers_are_kept_with_every_digit_and_other_surprises_only_named() -> None:
    big = 2**60 + 7  # a double would round it
    stat = {**STAT, "shares": big, "ratio": 0.25, "label": "x"}
    answer = parse_media_stats(200, body(ok(dataset([{"timestamp": 0, "stats": [stat]}]))), {}, CTX)
    assert answer.path == "careful"
    assert json.loads(answer.rows.stats[0].extra) == {"ratio": 0.25, "shares": big}
    assert answer.unknown_fields == {"shares", "ratio", "label"}


def test_media_metadata_carries_type_and_duration() -> None:
    response = dataset([])
    response["aggregationData"]["accountMedia"] = [
        {"id": "m1", "media": {"type": 2, "mimetype": "video/mp4", "duration": 12.5}},
        {"id": "m2", "media": {"type": 1, "mimetype": "image/jpeg"}},
    ]
    video, image = parse_media_stats(200, body(ok(response)), {}, CTX).media
    assert (video.media_type, video.duration_s) == (2, 12.5)
    assert (image.media_type, image.duration_s) == (1, None)


TAG = {"tagId": "7001", "views": 5, "previewViews": 2, "interactionTime": 900,
       "previewInteractionTime": 40}  # fmt: skip


def tagged(tags: Any, names: Any = None) -> bytes:
    response = dataset([{"timestamp": 0, "stats": [STAT]}], topFypTags=tags)
    response["aggregationData"]["tags"] = names or []
    return body(ok(response))


def test_fyp_tags_are_read_on_both_paths_with_their_names() -> None:
    names = [{"id": "7001", "tag": "cosplay", "viewCount": 5}, "junk"]
    fast = parse_media_stats(200, tagged([TAG], names), {}, CTX)
    careful = parse_dataset(unwrap(200, tagged([TAG], names), {}, CTX), CTX)
    assert fast.path == "fast" and fast.tags == careful.tags
    (tag,) = fast.tags
    assert (tag.tag_id, tag.name, tag.views, tag.preview_interaction_time_ms) == (
        "7001", "cosplay", 5, 40,
    )  # fmt: skip
    unnamed = parse_media_stats(200, tagged([{**TAG, "tagId": 7002}]), {}, CTX).tags[0]
    assert (unnamed.tag_id, unnamed.name) == ("7002", None)  # a numeric id is read as text


@pytest.mark.parametrize(
    "tags",
    [
        {"tagId": "1"},
        ["x"],
        [{**TAG, "views": "many"}],
        [{k: v for k, v in TAG.items() if k != "tagId"}],
    ],
    ids=["not-a-list", "entry-not-object", "count-string", "no-tag-id"],
)
def test_broken_fyp_tags_are_malformed(tags: Any) -> None:
    with pytest.raises(exc.FanslyMalformedAnswerError, match="topFypTags"):
        parse_media_stats(200, tagged(tags), {}, CTX)
