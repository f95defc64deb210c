"""Typed objects the hook returns: one media offer's statistics for one window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import NamedTuple

__all__ = ["STAT_FIELDS", "Bucket", "Datapoint", "MediaOffer", "MediaStats", "Stat"]

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


#: One bucket as parsed, lean: its start and a ``(type, *counts)`` tuple per stat.
Bucket = tuple[int, list[tuple[int, ...]]]


@dataclass
class MediaStats:
    """The buckets of ``[after, before)`` for one media offer, and its metadata.

    ``buckets`` is the lean form the operator streams to Parquet; :attr:`datapoints` is the
    same data as typed objects. ``unknown_fields`` names stat fields the API sent that this
    provider does not know yet.
    """

    account_id: str
    media_offer_id: str
    after: int
    before: int
    period: int
    buckets: list[Bucket] = field(default_factory=list)
    media: list[MediaOffer] = field(default_factory=list)
    unknown_fields: set[str] = field(default_factory=set)
    requests: int = 0

    def add_buckets(self, buckets: list[Bucket], lo: int, hi: int) -> None:
        """Keep the buckets of one answer that start inside ``[lo, hi)``."""
        self.buckets.extend(b for b in buckets if lo <= b[0] < hi)

    @property
    def datapoints(self) -> list[Datapoint]:
        """The buckets as typed :class:`Datapoint` objects, oldest first."""
        return [
            Datapoint(ts, tuple(Stat(*values) for values in stats))
            for ts, stats in sorted(self.buckets, key=lambda b: b[0])
        ]
