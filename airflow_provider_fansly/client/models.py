"""Typed objects the hook returns: one media offer's statistics for one window."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, NamedTuple

__all__ = ["Datapoint", "FypTag", "MediaOffer", "MediaStats", "TagWindow"]


class Datapoint(NamedTuple):
    """One bucket: its start (epoch ms, UTC) and a stat per traffic source.

    Each stat is a :data:`~airflow_provider_fansly.client.datapoints.StatStruct`: ``type`` and the
    counters under the API's names (``views``, ``previewViews``, ...; times in milliseconds).
    """

    timestamp: int
    stats: tuple[Any, ...]


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
    #: the platform's media type code (1 image, 2 video as seen), and a video's length in s
    media_type: int | None = None
    duration_s: float | None = None


@dataclass(frozen=True)
class FypTag:
    """A content tag that brought For-You-page traffic over an answer's window
    (``dataset.topFypTags``), named from ``aggregationData.tags`` when the answer does."""

    tag_id: str
    name: str | None
    views: int
    preview_views: int
    interaction_time_ms: int
    preview_interaction_time_ms: int


@dataclass(frozen=True)
class TagWindow:
    """The tags one answer reported and the window ``[after, before)`` it covered (a cut
    answer covers less than was asked; its older part is another answer)."""

    after: int
    before: int
    tags: tuple[FypTag, ...]


@dataclass
class MediaStats:
    """The statistics of ``[after, before)`` for one media offer, and its metadata.

    ``times`` and ``stats`` are the lean, columnar form the operator streams to Parquet: one
    bucket start and one ``StatStruct`` per row. :attr:`datapoints` is the same data as
    typed objects. ``unknown_fields`` names stat fields the API sent that this provider does
    not know yet.
    """

    account_id: str
    media_offer_id: str
    after: int
    before: int
    period: int
    times: list[int] = field(default_factory=list)
    stats: list[Any] = field(default_factory=list)
    media: list[MediaOffer] = field(default_factory=list)
    unknown_fields: set[str] = field(default_factory=set)
    requests: int = 0
    #: whether an answer may have carried video fields (else those columns are all null)
    video: bool = False
    #: each answer's For-You-page tags with the window it covered (answers without any: none)
    tags: list[TagWindow] = field(default_factory=list)

    @property
    def datapoints(self) -> list[Datapoint]:
        """The buckets that have stats, as typed :class:`Datapoint` objects, oldest first."""
        by_bucket: dict[int, list[Any]] = {}
        for ts, stat in zip(self.times, self.stats, strict=True):
            by_bucket.setdefault(ts, []).append(stat)
        return [Datapoint(ts, tuple(by_bucket[ts])) for ts in sorted(by_bucket)]
