"""What the account's own statistics say, in the lake: its traffic, its top lists, its media.

A discovery (one ``profilestats`` answer for an account and window) replaces that window's
rows of ``account_traffic`` and ``top_media_offers`` (a rerun of the same day buys nothing
twice and leaves one copy), and merges the media behind the listed offers into
``media_offers`` (their creation time among them). The planner reads back each media offer's
best recent rank and its creation time: nothing it keeps is outside the lake.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, timedelta

import pyarrow as pa
import pyarrow.compute as pc

from airflow_provider_fansly.client.models import MediaStats
from airflow_provider_fansly.client.profilestats import ProfileStats, TopMediaOffer
from airflow_provider_fansly.client.windows import DAY_MS, day_of
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.columns import (
    ACCOUNT_TRAFFIC_SCHEMA,
    TIMESTAMP,
    TOP_MEDIA_SCHEMA,
    media_offers_table,
    stats_table,
    with_partitions,
)
from airflow_provider_fansly.storage.delta import (
    ACCOUNT_TRAFFIC_TABLE,
    MEDIA_OFFERS_TABLE,
    TOP_MEDIA_TABLE,
    merge_media_offers,
    open_table,
    overwrite_where,
)
from airflow_provider_fansly.storage.expectation import TAIL_DAYS, TOP_DAYS, Cadence, is_fresh
from airflow_provider_fansly.storage.location import Location

__all__ = ["Discovered", "cadence_of", "read_discovered", "record_discovery"]


def record_discovery(location: Location, stats: ProfileStats, fetched_at_ms: int) -> None:
    """Write one discovery answer: its window's traffic and top lists, and its media."""
    window = [
        ("account_id", "=", stats.account_id),
        ("period_ms", "=", stats.period),
        ("dt", ">=", day_of(stats.after)),
        ("dt", "<=", day_of(stats.before - 1)),
    ]
    overwrite_where(
        location, ACCOUNT_TRAFFIC_TABLE, _traffic(stats, fetched_at_ms), layout.sql(window)
    )
    starts = [*window[:2], ("dt", "=", day_of(stats.after))]
    overwrite_where(location, TOP_MEDIA_TABLE, _tops(stats, fetched_at_ms), layout.sql(starts))
    if stats.media:
        merge_media_offers(
            location,
            media_offers_table(stats.account_id, stats.media, fetched_at_ms, "discovery"),
        )


def _traffic(stats: ProfileStats, fetched_at_ms: int) -> pa.Table:
    """The account's rows, as ``media_stats`` rows without a media offer."""
    result = MediaStats(stats.account_id, "", stats.after, stats.before, stats.period)
    result.times, result.stats, result.video = stats.rows.times, stats.rows.stats, True
    rows = with_partitions(stats_table([result], fetched_at_ms), stats.period)
    return rows.drop_columns(["media_offer_id"]).select(ACCOUNT_TRAFFIC_SCHEMA.names)


def _tops(stats: ProfileStats, fetched_at_ms: int) -> pa.Table:
    """Both top lists of the window, a row per rank."""
    lists: list[tuple[str, list[TopMediaOffer]]] = [
        ("views", stats.top_media_offers),
        ("fyp", stats.top_fyp_media_offers),
    ]
    common = {
        "account_id": stats.account_id,
        "period_ms": stats.period,
        "dt": day_of(stats.after),
        "window_start": stats.after * 1000,
        "window_end": stats.before * 1000,
        "fetched_at": fetched_at_ms * 1000,
    }
    rows = [
        {
            **common,
            "list": name,
            "rank": top.rank,
            "media_offer_id": top.media_offer_id,
            "views": top.views,
            "preview_views": top.preview_views,
            "interaction_time_ms": top.interaction_time_ms,
            "preview_interaction_time_ms": top.preview_interaction_time_ms,
            "unique_viewers": top.unique_viewers,
        }
        for name, tops in lists
        for top in tops
    ]
    return pa.Table.from_pylist(rows, schema=TOP_MEDIA_SCHEMA)


@dataclass(frozen=True)
class Discovered:
    """Per media offer of an account: its best rank in the top lists of the days read, and
    when it was posted (from ``media_offers``; else when the lake first found it)."""

    ranks: dict[str, int]
    created_ms: dict[str, int]

    @property
    def media_offer_ids(self) -> set[str]:
        """Every media offer named: in a top list of the days read, or in ``media_offers``."""
        return set(self.ranks) | set(self.created_ms)


def read_discovered(location: Location, account_id: str, first: date, last: date) -> Discovered:
    """The account's best ranks in the top lists of ``[first, last]``, and what
    ``media_offers`` knows of its media offers' creation."""
    ranks: dict[str, int] = {}
    tops = open_table(location, TOP_MEDIA_TABLE)
    if tops is not None:
        found = tops.to_pyarrow_dataset().to_table(
            columns=["media_offer_id", "rank"],
            filter=(pc.field("account_id") == account_id)
            & (pc.field("dt") >= pa.scalar(first))
            & (pc.field("dt") <= pa.scalar(last)),
        )
        pairs = zip(found["media_offer_id"].to_pylist(), found["rank"].to_pylist(), strict=True)
        for media, rank in pairs:
            ranks[media] = min(rank, ranks.get(media, rank))
    created: dict[str, int] = {}
    offers = open_table(location, MEDIA_OFFERS_TABLE)
    if offers is not None:
        has_found = "first_found_at" in pa.schema(offers.schema().to_arrow()).names  # not 0.5's
        known = offers.to_pyarrow_dataset().to_table(
            columns=["media_offer_id", "created_at", *(["first_found_at"] if has_found else [])],
            filter=pc.field("account_id") == account_id,
        )
        # when it was posted; else, as the first day it was seen, when this lake found it
        posted = (
            pc.coalesce(known["created_at"], known["first_found_at"])
            if has_found
            else known["created_at"]
        )
        valid = pc.is_valid(posted)
        stamps = posted.filter(valid).cast(TIMESTAMP).cast(pa.int64()).to_pylist()
        ids = known["media_offer_id"].filter(valid).to_pylist()
        created = {m: us // 1000 for m, us in zip(ids, stamps, strict=True)}
    return Discovered(ranks, created)


def cadence_of(location: Location, period: int, as_of: date | None = None) -> Cadence:
    """The accounts the planner fetches in this lake (those discovery has answers of), their
    cadence for ``period`` (daily buckets every ``TAIL_DAYS``, hourly ones never again after
    a post's launch hours), and which of their media offers are fresh as of ``as_of``."""
    tops = open_table(location, TOP_MEDIA_TABLE)
    if tops is None:
        return Cadence(frozenset(), TAIL_DAYS if period == DAY_MS else None)
    found = tops.to_pyarrow_dataset().to_table(columns=["account_id"])
    accounts = frozenset(pc.unique(found["account_id"]).to_pylist())
    fresh = frozenset() if as_of is None else _fresh(location, accounts, as_of)
    return Cadence(accounts, TAIL_DAYS if period == DAY_MS else None, fresh)


def _fresh(location: Location, accounts: frozenset[str], as_of: date) -> frozenset[tuple[str, str]]:
    """The planned accounts' media offers fetched every day as of ``as_of``."""
    fresh = set()
    for account in accounts:
        known = read_discovered(location, account, as_of - timedelta(days=TOP_DAYS - 1), as_of)
        for media in known.media_offer_ids:
            posted = known.created_ms.get(media)
            if is_fresh(as_of, day_of(posted) if posted else None, known.ranks.get(media)):
                fresh.add((account, media))
    return frozenset(fresh)
