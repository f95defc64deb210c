"""Deterministic synthetic statistics: the emulator's answers and the tests' truth, from one rule.

Every number is a hash of (account, media offer, period, bucket start, stat type), so any
process can recompute what the emulator serves without talking to it.
"""

from __future__ import annotations

import hashlib
from typing import Any

from airflow_provider_fansly.datapoints import API_COLUMNS

__all__ = ["FAR_PAST_MS", "STAT_TYPES_SERVED", "bucket_stats", "expected_rows", "media_entry"]

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


def _stat(account: str, media: str, period: int, ts: int, kind: int) -> dict[str, int] | None:
    d = _digest(account, media, period, ts, kind)
    if d[0] % 4 == 0:
        return None
    scale = max(1, period // 3_600_000)
    views = (d[1] % 40 + 1) * scale
    unique = views - (d[2] % (views // 2 + 1))
    preview = (d[3] % 20) * scale
    preview_unique = preview - (d[4] % (preview // 2 + 1))
    return {
        "type": kind,
        "views": views,
        "previewViews": preview,
        "interactionTime": views * (500 + int.from_bytes(d[5:7], "big") % 30_000),
        "previewInteractionTime": preview * (200 + int.from_bytes(d[7:9], "big") % 5_000),
        "uniqueViewers": unique,
        "previewUniqueViewers": preview_unique,
    }


def bucket_stats(account: str, media: str, period: int, ts: int) -> list[dict[str, int]] | None:
    """Return the stats of one bucket, ``[]`` for a quiet one, ``None`` for one left out."""
    quiet, left_out = _quiet(account, media, period, ts)
    if quiet:
        return None if left_out else []
    stats = (_stat(account, media, period, ts, kind) for kind in STAT_TYPES_SERVED)
    return [s for s in stats if s is not None]


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


def media_entry(account: str, media: str) -> dict[str, Any]:
    """Return the ``aggregationData.accountMedia`` entry of a media offer."""
    d = _digest(account, media, "media")
    video = d[0] % 3 == 0
    return {
        "id": media,
        "accountId": account,
        "mediaId": f"m{int.from_bytes(d[1:6], 'big')}",
        "previewId": None,
        "permissionFlags": 8,
        "price": (d[6] % 5) * 100,
        "createdAt": 1_700_000_000 + int.from_bytes(d[7:10], "big"),
        "deletedAt": None,
        "deleted": False,
        "likeCount": d[10] % 200,
        "media": {
            "id": f"m{int.from_bytes(d[1:6], 'big')}",
            "type": 2 if video else 1,
            "mimetype": "video/mp4" if video else "image/jpeg",
            "width": 1080 if video else 1024,
            "height": 1920 if video else 1536,
        },
    }
