"""The account's own statistics (``GET /api/fansly/{accountId}/analytics/profilestats``), typed.

One request per account and window names the media offers that had traffic in it: the
account's traffic per bucket and type, its profile traffic, the window's top media offers by
views and by For-You-page views (at most 50 each: the platform's page size; the window is the
identity of a ranking), its top tags, and the media behind the listed offers. No route lists
every media offer of an account; this is where the planner finds new ones.

Checked as a media answer is: the period must be the one asked for, every bucket on its grid
inside the window (the bucket the API adds at ``beforeDate`` is dropped). What
``shared/reference/api-facts.md`` calls unverified is read tolerantly (profile datapoints'
fields, ``uniqueViewers`` and ``tagIds`` of a top row, ``accountMedia``'s creation time); a
field of the wrong shape elsewhere is one :class:`FanslyMalformedAnswerError` naming it.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any

import msgspec

from airflow_provider_fansly.client.aggregation import media_list, tag_names
from airflow_provider_fansly.client.datapoints import Rows, parse_datapoints
from airflow_provider_fansly.client.envelope import unwrap
from airflow_provider_fansly.client.models import MediaOffer
from airflow_provider_fansly.exceptions import (
    FanslyAnswerMismatchError,
    FanslyMalformedAnswerError,
    RequestContext,
)

__all__ = ["ProfileStats", "ProfileTraffic", "TopMediaOffer", "TopTag", "parse_profile_stats"]

#: The most rows a top list holds (the platform's page size).
TOP_LIST_ROWS = 50


class _Top(msgspec.Struct, rename="camel"):
    media_offer_id: str
    views: int
    preview_views: int = 0
    interaction_time: int = 0
    preview_interaction_time: int = 0
    media_offer_bundle_id: str | None = None
    unique_viewers: int | None = None  # one client's fixture: unverified
    tag_ids: list[str] | None = None  # unverified


class _Tag(msgspec.Struct, rename="camel"):
    tag_id: str
    views: int
    preview_views: int = 0
    interaction_time: int = 0
    preview_interaction_time: int = 0


class _ProfileStat(msgspec.Struct, rename="camel"):  # its fields are unverified: all optional
    type: int
    views: int | None = None
    unique_viewers: int | None = None
    interaction_time: int | None = None


class _ProfilePoint(msgspec.Struct):
    timestamp: int
    stats: list[_ProfileStat] = []


class _Dataset(msgspec.Struct, rename="camel"):
    period: int
    datapoints: list[Any] = []
    profile_datapoints: list[_ProfilePoint] = []
    top_media_offers: list[_Top] = []
    top_fyp_media_offers: list[_Top] = []
    top_fyp_tags: list[_Tag] = []


class _Answer(msgspec.Struct, rename="camel"):
    dataset: _Dataset
    aggregation_data: Any = None


@dataclass(frozen=True)
class TopMediaOffer:
    """One row of a top list: its rank (1 = most), the media offer and its numbers."""

    rank: int
    media_offer_id: str
    views: int
    preview_views: int
    interaction_time_ms: int
    preview_interaction_time_ms: int
    unique_viewers: int | None = None


@dataclass(frozen=True)
class TopTag:
    """One of the account's top For-You-page tags of the window (its name when the answer
    carries it)."""

    tag_id: str
    name: str | None
    views: int


@dataclass(frozen=True)
class ProfileTraffic:
    """Profile visits in one bucket for one type code (the profile's own codes)."""

    bucket_start_ms: int
    type: int
    views: int | None
    unique_viewers: int | None
    interaction_time_ms: int | None


@dataclass
class ProfileStats:
    """An account's statistics over ``[after, before)`` with buckets of ``period`` ms."""

    account_id: str
    after: int
    before: int
    period: int
    #: the account's traffic per bucket and type, as the media route's rows
    rows: Rows
    profile: list[ProfileTraffic]
    top_media_offers: list[TopMediaOffer]
    top_fyp_media_offers: list[TopMediaOffer]
    top_tags: list[TopTag]
    media: list[MediaOffer]
    unknown_fields: set[str] = field(default_factory=set)

    def listed(self) -> list[str]:
        """Every media offer the answer names: both top lists, then the media entries."""
        named = [t.media_offer_id for t in (*self.top_media_offers, *self.top_fyp_media_offers)]
        return list(dict.fromkeys([*named, *(m.id for m in self.media)]))


def parse_profile_stats(
    status: int,
    body: bytes,
    headers: Mapping[str, str],
    ctx: RequestContext,
    question: tuple[int, int, int],
) -> ProfileStats:
    """Parse one ``profilestats`` answer to the ``(after, before, period)`` asked."""
    payload = unwrap(status, body, headers, ctx)
    try:
        answer = msgspec.convert(payload, _Answer, strict=True)
    except msgspec.ValidationError as error:
        raise FanslyMalformedAnswerError(
            f"the profilestats answer is not what it should be: {error}", ctx, status_code=status
        ) from None
    after, before, period = question
    data = answer.dataset
    if data.period != period:
        raise FanslyAnswerMismatchError(
            "the profilestats answer is for another period",
            ctx,
            claimed=f"period {data.period}",
            asked=f"period {period}",
        )
    rows, unknown, stamps = parse_datapoints(data.datapoints, ctx)
    _check_buckets([*stamps, *(p.timestamp for p in data.profile_datapoints)], question, ctx)
    keep = [after <= t < before for t in rows.times]
    names = tag_names(answer.aggregation_data)
    return ProfileStats(
        account_id=ctx.account_id or "",
        after=after,
        before=before,
        period=period,
        rows=Rows(
            [t for t, k in zip(rows.times, keep, strict=True) if k],
            [s for s, k in zip(rows.stats, keep, strict=True) if k],
        ),
        profile=[
            ProfileTraffic(p.timestamp, s.type, s.views, s.unique_viewers, s.interaction_time)
            for p in data.profile_datapoints
            if after <= p.timestamp < before
            for s in p.stats
        ],
        top_media_offers=_ranked(data.top_media_offers),
        top_fyp_media_offers=_ranked(data.top_fyp_media_offers),
        top_tags=[TopTag(t.tag_id, names.get(t.tag_id), t.views) for t in data.top_fyp_tags],
        media=media_list(answer.aggregation_data),
        unknown_fields=unknown,
    )


def _ranked(rows: list[_Top]) -> list[TopMediaOffer]:
    """A top list in the answer's order, ranked from 1 (the platform sends it sorted)."""
    return [
        TopMediaOffer(
            rank,
            r.media_offer_id,
            r.views,
            r.preview_views,
            r.interaction_time,
            r.preview_interaction_time,
            r.unique_viewers,
        )
        for rank, r in enumerate(rows[:TOP_LIST_ROWS], start=1)
    ]


def _check_buckets(stamps: list[int], question: tuple[int, int, int], ctx: RequestContext) -> None:
    """Every bucket on the period's grid within ``[after, before]`` (the API's extra bucket at
    ``beforeDate`` included), or one error naming the first that is not."""
    after, before, period = question
    for ts in stamps:
        if ts % period or not after <= ts <= before:
            raise FanslyAnswerMismatchError(
                "the profilestats answer has a bucket outside the window or off its grid",
                ctx,
                claimed=f"a bucket at {ts}",
                asked=f"[{after}, {before}) on the {period} ms grid",
            )
