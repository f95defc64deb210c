"""Typed objects the hook returns: one media offer's statistics for one window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["STAT_FIELDS", "Datapoint", "MediaOffer", "MediaStats", "Stat"]

#: The API's names of the counters of one stat object, in column order.
STAT_FIELDS = (
    "views",
    "previewViews",
    "interactionTime",
    "previewInteractionTime",
    "uniqueViewers",
    "previewUniqueViewers",
)


class Stat(NamedTuple):
    """The counters of one traffic source (``type``) in one bucket; times in milliseconds."""

    type: int
    views: int
    preview_views: int
    interaction_time_ms: int
    preview_interaction_time_ms: int
    unique_viewers: int
    preview_unique_viewers: int


class Datapoint(NamedTuple):
    """One bucket: its start (epoch ms, UTC) and a stat per traffic source (may be empty)."""

    timestamp: int
    stats: tuple[Stat, ...]


@dataclass(frozen=True)
class MediaOffer:
    """The metadata of one media offer, from ``aggregationData.accountMedia``."""

    id: str
    account_id: str | None
    media_id: str | None
    mimetype: str | None
    width: int | None
    height: int | None
    price: int | None
    like_count: int | None
    created_at_s: int | None
    deleted: bool | None


@dataclass
class MediaStats:
    """The datapoints of ``[after, before)`` for one media offer, oldest first.

    ``unknown_fields`` names stat fields the API sent that this provider does not know yet;
    ``warnings`` says where an answer differed from what was asked (logged by the hook).
    """

    account_id: str
    media_offer_id: str
    after: int
    before: int
    period: int
    datapoints: list[Datapoint] = field(default_factory=list)
    media: list[MediaOffer] = field(default_factory=list)
    unknown_fields: set[str] = field(default_factory=set)
    requests: int = 0
