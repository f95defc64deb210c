"""What an answer's ``aggregationData`` carries beside the numbers: the media offers'
metadata and the tags' names. Both parsing paths of :mod:`.envelope` read it the same way,
tolerantly: an entry of another shape is skipped, never a reason to refuse the answer."""

from __future__ import annotations

from typing import Any

from airflow_provider_fansly.client.models import MediaOffer

__all__ = ["media_list", "tag_names"]


def _media(raw: Any) -> MediaOffer | None:
    if not isinstance(raw, dict) or not isinstance(raw.get("id"), str):
        return None
    media: dict[str, Any] = raw["media"] if isinstance(raw.get("media"), dict) else {}

    def num(source: dict[str, Any], key: str) -> int | None:
        value = source.get(key)
        return value if type(value) is int else None

    def text(source: dict[str, Any], key: str) -> str | None:
        value = source.get(key)
        return value if isinstance(value, str) else None

    def seconds(source: dict[str, Any], key: str) -> float | None:
        value = source.get(key)
        if type(value) is int or (type(value) is float and 0 <= value < float("inf")):
            return float(value)
        return None

    return MediaOffer(
        id=raw["id"],
        account_id=text(raw, "accountId"),
        media_id=text(raw, "mediaId"),
        mimetype=text(media, "mimetype"),
        width=num(media, "width"),
        height=num(media, "height"),
        price=num(raw, "price"),
        like_count=num(raw, "likeCount"),
        created_at_s=num(raw, "createdAt"),
        deleted=raw["deleted"] if isinstance(raw.get("deleted"), bool) else None,
        media_type=num(media, "type"),
        duration_s=seconds(media, "duration"),
    )


def media_list(aggregation: Any) -> list[MediaOffer]:
    """The media offers of ``aggregationData.accountMedia`` (entries of another shape are
    skipped: the media metadata is a convenience, never a reason to fail an answer)."""
    raw = aggregation.get("accountMedia") if isinstance(aggregation, dict) else None
    if not isinstance(raw, list):
        return []
    return [m for m in map(_media, raw) if m is not None]


def tag_names(aggregation: Any) -> dict[str, str]:
    """Tag id -> name from ``aggregationData.tags`` (entries of another shape are skipped)."""
    raw = aggregation.get("tags") if isinstance(aggregation, dict) else None
    entries = raw if isinstance(raw, list) else []
    return {
        str(t["id"]): t["tag"]
        for t in entries
        if isinstance(t, dict) and type(t.get("id")) in (str, int) and isinstance(t.get("tag"), str)
    }
