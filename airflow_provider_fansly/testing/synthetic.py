"""Deterministic synthetic statistics: the emulator's answers and the tests' truth, from one rule.

Every number is a hash of (account, media offer, period, bucket start, stat type), so any
process can recompute what the emulator serves without talking to it. Hourly buckets split
their day's numbers, so hourly and daily data agree as the real API's should; media offers
named with an :data:`ANOMALIES` prefix break that on anomaly days, for the quality checks.
"""

from __future__ import annotations

import hashlib
import time
from typing import Any

from airflow_provider_fansly.client.datapoints import API_COLUMNS
from airflow_provider_fansly.client.windows import DAY_MS, HOUR_MS
from airflow_provider_fansly.testing.catalogue import Catalogue

__all__ = [
    "ANOMALIES",
    "FAR_PAST_MS",
    "STAT_TYPES_SERVED",
    "TAG_NAMES",
    "anomaly_day",
    "bucket_stats",
    "expected_rows",
    "fyp_tags",
    "hour_share",
    "is_video",
    "media_entry",
    "media_tags",
]

#: Media offer id prefixes and what their numbers do on anomaly days (:func:`anomaly_day`),
#: so that tests and the demo see each quality check fire. ``restated-`` is the exception:
#: every day of it comes 30% low while under 3 days old, and final after.
ANOMALIES = {
    "zero-": "every count is 0",
    "spike-": "views and interaction time are 50 times the usual",
    "split-": "the hourly buckets sum to 30% more than the daily one",
    "restated-": "numbers fetched while the day is under 3 days old are 30% low",
}
_COUNTS = (
    "views",
    "previewViews",
    "interactionTime",
    "previewInteractionTime",
    "uniqueViewers",
    "previewUniqueViewers",
    "videoViews",  # videos only
    "previewVideoViews",
)

#: Stat types the emulator serves (0 FYP, 1 direct/timeline, 2 suggestions).
STAT_TYPES_SERVED = (0, 1, 2)
#: Windows ending before this (2015-01-01) get the API's single all-zero bucket.
FAR_PAST_MS = 1_420_070_400_000


def _digest(*parts: object) -> bytes:
    return hashlib.blake2b("|".join(map(str, parts)).encode(), digest_size=16).digest()


def _quiet(account: str, media: str, period: int, ts: int) -> tuple[bool, bool]:
    """Return (quiet, left_out): quiet buckets have no stats; half of them are left out."""
    d = _digest(account, media, period, ts)
    return d[0] % 7 == 0, d[1] % 2 == 0


def is_video(account: str, media: str) -> bool:
    """Whether the emulator's media offer is a video (a third of them): its stats carry the
    video fields and its metadata a duration."""
    return _digest(account, media, "media")[0] % 3 == 0


def _stat(account: str, media: str, period: int, ts: int, kind: int) -> dict[str, Any] | None:
    d = _digest(account, media, period, ts, kind)
    if d[0] % 4 == 0:
        return None
    scale = max(1, period // 3_600_000)
    views = (d[1] % 40 + 1) * scale
    unique = views - (d[2] % (views // 2 + 1))
    preview = (d[3] % 20) * scale
    preview_unique = preview - (d[4] % (preview // 2 + 1))
    stat = {
        "type": kind,
        "views": views,
        "previewViews": preview,
        "interactionTime": views * (500 + int.from_bytes(d[5:7], "big") % 30_000),
        "previewInteractionTime": preview * (200 + int.from_bytes(d[7:9], "big") % 5_000),
        "uniqueViewers": unique,
        "previewUniqueViewers": preview_unique,
    }
    if is_video(account, media):
        stat["videoViews"] = views - d[9] % (views // 3 + 1)
        stat["previewVideoViews"] = preview - d[10] % (preview // 3 + 1)
    return stat


def _watched(account: str, media: str, stat: dict[str, Any]) -> dict[str, Any]:
    """Add a video's percent totals to its final counts: the sum over views of a percentage
    watched, at an average fixed per media offer and traffic source (50-90%)."""
    if "videoViews" not in stat:
        return stat
    d = _digest(account, media, "watched", stat["type"])
    average, preview = 50 + d[0] % 4000 / 100, 50 + d[1] % 4000 / 100
    return {
        **stat,
        "totalVideoPercentWatched": round(stat["videoViews"] * average, 2),
        "previewTotalVideoPercentWatched": round(stat["previewVideoViews"] * preview, 2),
    }


def anomaly_day(ts: int) -> bool:
    """Whether the UTC day of ``ts`` is an anomaly day: every 20th (day number % 20 == 3)."""
    return ts // DAY_MS % 20 == 3


def hour_share(value: int, hour: int) -> int:
    """Hour ``hour``'s part of a day's count: the 24 parts sum to ``value``, and a count
    never above another (unique viewers, views) gets no part above the other's."""
    return value // 24 + (1 if (hour * 7) % 24 < value % 24 else 0)


def _scaled(
    stat: dict[str, Any], factor: float, fields: tuple[str, ...] = _COUNTS
) -> dict[str, Any]:
    return {k: int(v * factor) if k in fields else v for k, v in stat.items()}


#: When to ask: "now" in epoch ms, and the anomaly days (day numbers; ``None``: every 20th).
Asked = tuple[int, "frozenset[int] | None"]


def _anomalous(day: int, asked: Asked) -> bool:
    days = asked[1]
    return anomaly_day(day) if days is None else day // DAY_MS in days


def _day_stat(account: str, media: str, day: int, kind: int, asked: Asked) -> dict[str, Any] | None:
    catalogue = Catalogue.of(account)
    if catalogue is not None:
        return catalogue.day_stat(media, day, kind)
    stat = _stat(account, media, DAY_MS, day, kind)
    if stat is None:
        return None
    if media.startswith("restated-") and asked[0] - (day + DAY_MS) < 3 * DAY_MS:
        return _scaled(stat, 0.7)
    if not _anomalous(day, asked):
        return stat
    if media.startswith("zero-"):
        return _scaled(stat, 0)
    if media.startswith("spike-"):
        return _scaled(stat, 50, ("views", "interactionTime"))
    return stat


def _hour_stat(account: str, media: str, ts: int, kind: int, asked: Asked) -> dict[str, Any] | None:
    day = ts // DAY_MS * DAY_MS
    stat = _day_stat(account, media, day, kind, asked)
    if stat is None:
        return None
    if media.startswith("split-") and _anomalous(day, asked):
        stat = _scaled(stat, 1.3)
    hour = (ts - day) // HOUR_MS
    return {k: hour_share(v, hour) if k in _COUNTS else v for k, v in stat.items()}


def bucket_stats(
    account: str,
    media: str,
    period: int,
    ts: int,
    now_ms: int | None = None,
    anomaly_days: frozenset[int] | None = None,
) -> list[dict[str, Any]] | None:
    """Return the stats of one bucket, ``[]`` for a quiet one, ``None`` for one left out.

    ``now_ms`` is when it is asked (default: now); only ``restated-`` media offers depend on
    it. ``anomaly_days`` (day numbers, epoch ms // one day) replaces :func:`anomaly_day`.
    """
    asked = (int(time.time() * 1000) if now_ms is None else now_ms, anomaly_days)
    if period in (DAY_MS, HOUR_MS) and Catalogue.of(account) is not None:
        one = _day_stat if period == DAY_MS else _hour_stat
        held = [one(account, media, ts, kind, asked) for kind in STAT_TYPES_SERVED]
        return [s for s in held if s is not None] or None  # none: not posted yet, or quiet
    if period in (DAY_MS, HOUR_MS):
        day = ts // DAY_MS * DAY_MS
        quiet, left_out = _quiet(account, media, DAY_MS, day)
        one = _day_stat if period == DAY_MS else _hour_stat
        stats = [one(account, media, ts, kind, asked) for kind in STAT_TYPES_SERVED]
    else:
        quiet, left_out = _quiet(account, media, period, ts)
        stats = [_stat(account, media, period, ts, kind) for kind in STAT_TYPES_SERVED]
    if quiet:
        return None if left_out else []
    return [_watched(account, media, s) for s in stats if s is not None]


def expected_rows(
    account: str, media: str, after: int, before: int, period: int
) -> list[dict[str, Any]]:
    """Return the dataset rows the emulator's truth holds for ``[after, before)``."""
    rows = []
    first = -(-after // period) * period
    for ts in range(first, before, period):
        for s in bucket_stats(account, media, period, ts) or ():
            columns = {API_COLUMNS[name]: value for name, value in s.items()}
            rows.append(
                {"account_id": account, "media_offer_id": media, "bucket_start_ms": ts, **columns}
            )
    return rows


#: The tags the emulator's media offers draw from: id -> name.
TAG_NAMES = {
    "7001": "cosplay",
    "7002": "fitness",
    "7003": "asmr",
    "7004": "behindthescenes",
    "7005": "gaming",
    "7006": "travel",
}
_TAG_IDS = tuple(TAG_NAMES)
_TAG_COUNTS = ("views", "previewViews", "interactionTime", "previewInteractionTime")


def media_tags(account: str, media: str) -> list[tuple[str, float]]:
    """The tags that bring a media offer For-You-page traffic, each with its share of that
    traffic (0 to 3 tags; the shares sum below 1)."""
    d = _digest(account, media, "tags")
    count = d[0] % 4
    picked = sorted({_TAG_IDS[b % len(_TAG_IDS)] for b in d[1 : 1 + count]})
    return [(tag, (10 + d[8 + i] % 20) / 100) for i, tag in enumerate(picked)]


def fyp_tags(account: str, media: str, buckets: list[list[dict[str, Any]]]) -> list[dict[str, Any]]:
    """``topFypTags`` over an answer's buckets (their stats as served): each tag's share of
    the For-You-page (stat type 0) numbers, summed, so a tag's views never exceed FYP views."""
    fyp = [s for stats in buckets for s in stats if s["type"] == 0]
    return [
        {"tagId": tag, **{k: sum(int(s[k] * share) for s in fyp) for k in _TAG_COUNTS}}
        for tag, share in media_tags(account, media)
    ]


def _created_s(account: str, media: str, d: bytes) -> int:
    """When a media offer was posted, in seconds (as ``accountMedia`` says it)."""
    catalogue = Catalogue.of(account)
    index = catalogue.index(media) if catalogue is not None else None
    if catalogue is None or index is None:
        return 1_700_000_000 + int.from_bytes(d[7:10], "big")
    return catalogue.created_ms(index) // 1000


def media_entry(account: str, media: str) -> dict[str, Any]:
    """Return the ``aggregationData.accountMedia`` entry of a media offer."""
    d = _digest(account, media, "media")
    video = is_video(account, media)
    return {
        "id": media,
        "accountId": account,
        "mediaId": f"m{int.from_bytes(d[1:6], 'big')}",
        "previewId": None,
        "permissionFlags": 8,
        "price": (d[6] % 5) * 100,
        "createdAt": _created_s(account, media, d),
        "deletedAt": None,
        "deleted": False,
        "likeCount": d[10] % 200,
        "media": {
            "id": f"m{int.from_bytes(d[1:6], 'big')}",
            "type": 2 if video else 1,
            "mimetype": "video/mp4" if video else "image/jpeg",
            "width": 1080 if video else 1024,
            "height": 1920 if video else 1536,
            **({"duration": 5 + d[11] % 600 + d[12] % 100 / 100} if video else {}),
        },
    }
