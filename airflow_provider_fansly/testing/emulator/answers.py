"""The vendor's answers as the emulator builds them: both envelopes, errors, the dataset."""

from __future__ import annotations

from datetime import date, datetime, timezone
from typing import Any

from airflow_provider_fansly.client.datapoints import STAT_FIELDS
from airflow_provider_fansly.client.windows import DATAPOINT_LIMIT
from airflow_provider_fansly.testing.catalogue import Catalogue
from airflow_provider_fansly.testing.synthetic import (
    FAR_PAST_MS,
    STAT_TYPES_SERVED,
    TAG_NAMES,
    bucket_stats,
    fyp_tags,
    media_entry,
)

__all__ = [
    "dataset",
    "day_numbers",
    "envelope",
    "error",
    "graph_error",
    "platform",
    "profile_dataset",
]


def _now_iso() -> str:
    return datetime.now(timezone.utc).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def envelope(status: int, message: str, data: Any) -> dict[str, Any]:
    return {"statusCode": status, "message": message, "data": data, "timestamp": _now_iso()}


def platform(response: Any) -> dict[str, Any]:
    return envelope(
        200, "Success", {"status_code": 200, "data": {"success": True, "response": response}}
    )


_ERRORS = {
    400: "Invalid request parameters",
    401: "Invalid or missing API key",
    402: "Insufficient credits. Please upgrade your plan or wait for renewal.",
    403: "Forbidden: this key may not access this account",
    404: "Account not found",
    429: "Rate limit exceeded. Please wait before making more requests.",
    500: "Internal server error",
}


def error(status: int, message: str | None = None) -> dict[str, Any]:
    return envelope(status, message or _ERRORS.get(status, "Error"), None)


def graph_error(wrap: str) -> tuple[int, dict[str, Any]]:
    platform = {"success": False, "error": {"code": 99, "message": "error getting graph"}}
    if wrap == "outer":
        return 500, envelope(500, "error getting graph", None)
    return 200, envelope(200, "Success", {"status_code": 500, "data": platform})


def _buckets(after: int, before: int, period: int, limit: int) -> list[int]:
    """Bucket starts the API answers for [after, before], newest first, at most ``limit``."""
    last = before // period * period
    first = -(-after // period) * period
    count = min(limit, max(0, (last - first) // period + 1))
    return [last - i * period for i in range(count)]


def dataset(
    account: str,
    media: str,
    after: int,
    before: int,
    period: int,
    limit: int = DATAPOINT_LIMIT,
    now_ms: int | None = None,
    anomaly_days: frozenset[int] | None = None,
) -> dict[str, Any]:
    """Build the ``response`` the platform gives for one media offer and window (asked at
    ``now_ms``, default now)."""
    points: list[dict[str, Any]] = []
    if before < FAR_PAST_MS:
        zero = dict.fromkeys(STAT_FIELDS, 0)
        points = [{"timestamp": before // period * period, "stats": [{"type": 1, **zero}]}]
    else:
        for ts in _buckets(after, before, period, limit):
            stats = bucket_stats(account, media, period, ts, now_ms, anomaly_days)
            if stats is not None:
                points.append({"timestamp": ts, "stats": stats})
    tags = fyp_tags(account, media, [p["stats"] for p in points])
    return {
        "dataset": {
            "period": period,
            "dateBefore": before // period * period,
            "dateAfter": after,
            "datapointLimit": limit,
            "datapoints": points,
            "topFypTags": tags,
            "datasetMediaOfferId": media,
        },
        "aggregationData": {
            "accountMedia": [media_entry(account, media)],
            "accountMediaBundles": [],
            "tags": [
                {"id": t["tagId"], "tag": TAG_NAMES[t["tagId"]], "viewCount": t["views"]}
                for t in tags
            ],
            "creatorMediaOfferLocations": [],
        },
    }


def day_numbers(days: list[str] | None) -> frozenset[int] | None:
    """ISO dates as day numbers since the epoch (``None`` stays ``None``)."""
    if days is None:
        return None
    return frozenset((date.fromisoformat(d) - date(1970, 1, 1)).days for d in days)


#: The most rows a top list of ``profilestats`` holds (the platform's page size).
TOP_ROWS = 50
_TOP_FIELDS = ("views", "previewViews", "interactionTime", "previewInteractionTime")


def profile_dataset(
    account: str, after: int, before: int, period: int, limit: int = DATAPOINT_LIMIT
) -> dict[str, Any]:
    """Build the ``response`` of ``profilestats`` for one account and window: the account's
    traffic per bucket and type, and its top media offers, all summed from the very numbers
    its media answers serve. Only a catalogue account has media offers the emulator knows;
    any other answers with empty lists."""
    catalogue = Catalogue.of(account)
    ids = catalogue.media_offer_ids(before) if catalogue is not None else []
    buckets = [ts for ts in _buckets(after, before, period, limit) if ts < before]
    totals: dict[tuple[int, int], dict[str, int]] = {}
    per_media: dict[str, dict[int, dict[str, int]]] = {}
    for media in ids:
        for ts in buckets:
            for stat in bucket_stats(account, media, period, ts) or ():
                kind = stat["type"]
                _add(totals.setdefault((ts, kind), {}), stat)
                _add(per_media.setdefault(media, {}).setdefault(kind, {}), stat)
    points: list[dict[str, Any]] = []
    profile: list[dict[str, Any]] = []
    for ts in buckets:
        stats = [{"type": k, **totals[ts, k]} for k in STAT_TYPES_SERVED if (ts, k) in totals]
        if stats:
            points.append({"timestamp": ts, "stats": stats})
            profile.append({"timestamp": ts, "stats": [_profile(stats)]})
    top = _top(per_media, STAT_TYPES_SERVED)
    top_fyp = _top(per_media, (0,))
    listed = list(dict.fromkeys(r["mediaOfferId"] for r in (*top, *top_fyp)))
    return {
        "dataset": {
            "period": period,
            "dateBefore": before // period * period,
            "dateAfter": after,
            "datapoints": points,
            "profileDatapoints": profile,
            "topMediaOffers": top,
            "topFypMediaOffers": top_fyp,
            "topFypTags": [],
        },
        "aggregationData": {
            "accountMedia": [media_entry(account, m) for m in listed],
            "accountMediaBundles": [],
            "tags": [],
        },
    }


def _add(into: dict[str, int], stat: dict[str, Any]) -> None:
    for name in STAT_FIELDS:
        into[name] = into.get(name, 0) + int(stat.get(name, 0))


def _top(
    per_media: dict[str, dict[int, dict[str, int]]], kinds: tuple[int, ...]
) -> list[dict[str, Any]]:
    """The media offers with views from ``kinds``, most views first (then by id), at most
    :data:`TOP_ROWS`."""
    rows: list[dict[str, Any]] = []
    for media, by_kind in per_media.items():
        sums = {f: sum(by_kind.get(k, {}).get(f, 0) for k in kinds) for f in _TOP_FIELDS}
        if sums["views"] > 0:
            rows.append({"mediaOfferId": media, "mediaOfferBundleId": "0", **sums})
    rows.sort(key=lambda r: (-r["views"], r["mediaOfferId"]))
    return rows[:TOP_ROWS]


def _profile(stats: list[dict[str, int]]) -> dict[str, Any]:
    """The bucket's profile visits: a twentieth of its views (their own type code)."""
    views = sum(s["views"] for s in stats)
    return {
        "type": 1,
        "views": views // 20,
        "uniqueViewers": views // 40,
        "interactionTime": views * 50,
    }
