"""Check an answer against its question, from the datapoints themselves (pure, no I/O).

The API's echo of the window (``dateAfter``/``dateBefore``) is not evidence: a cut or
misrouted answer can echo the question faithfully. What is checked instead:

- the answer is about the media offer and the period asked (``datasetMediaOfferId``,
  ``period``);
- every bucket lies on the period's UTC grid and inside ``[after, before]``: the bucket that
  starts *at* ``before`` is the one the API always adds, and the only one dropped;
- an answer holds at most ``datapointLimit`` buckets, the newest: when the request spanned
  more bucket slots than that (the boundary bucket counted), the answer covers only its
  newest ``limit`` slots, and the older part must be asked again.

Anything else raises :class:`FanslyAnswerMismatchError` naming what was claimed and asked.
"""

from __future__ import annotations

from dataclasses import dataclass

from airflow_provider_fansly.client.datapoints import Rows
from airflow_provider_fansly.client.envelope import StatsResponse
from airflow_provider_fansly.client.windows import DATAPOINT_LIMIT, iso_utc
from airflow_provider_fansly.exceptions import FanslyAnswerMismatchError, RequestContext

__all__ = ["Answered", "Question", "reconcile", "vouched_from"]


@dataclass(frozen=True)
class Question:
    """What one request asked: a media offer, a window ``[after, before)`` and a period."""

    media_offer_id: str
    after: int
    before: int
    period: int


@dataclass(frozen=True)
class Answered:
    """What an answer holds of its question: the rows of ``[covered_from, before)``."""

    rows: Rows
    covered_from: int
    limit: int


def _mismatch(
    what: str, claimed: str, asked: str, ctx: RequestContext
) -> FanslyAnswerMismatchError:
    return FanslyAnswerMismatchError(
        f"the answer does not match its request ({what})", ctx, claimed=claimed, asked=asked
    )


def _check_subject(period: int, media: str | None, asked: Question, ctx: RequestContext) -> None:
    if period != asked.period:
        raise _mismatch("another period", f"period {period} ms", f"period {asked.period} ms", ctx)
    if media is not None and media != asked.media_offer_id:
        raise _mismatch(
            "another media offer",
            f"datasetMediaOfferId {media!r}",
            f"media offer {asked.media_offer_id!r}",
            ctx,
        )


def _check_buckets(timestamps: list[int], asked: Question, ctx: RequestContext) -> None:
    if not timestamps:
        return
    off_grid = any(map(asked.period.__rmod__, timestamps))  # t % period, at C speed
    if min(timestamps) >= asked.after and max(timestamps) <= asked.before and not off_grid:
        return
    window = f"buckets in [{iso_utc(asked.after)}, {iso_utc(asked.before)}]"
    for ts in timestamps:  # name the first offender
        if not asked.after <= ts <= asked.before:
            hint = (
                " (seconds, not milliseconds?)" if asked.after <= ts * 1000 <= asked.before else ""
            )
            raise _mismatch("a bucket outside the window", f"a bucket at {ts}{hint}", window, ctx)
        if ts % asked.period:
            raise _mismatch(
                "a bucket off the grid",
                f"a bucket at {ts} ms",
                f"buckets on the {asked.period} ms UTC grid",
                ctx,
            )


def _without_boundary(rows: Rows, timestamps: list[int], boundary: int) -> Rows:
    """Drop the rows of the bucket at ``beforeDate`` (one slice when it came once)."""
    count = rows.times.count(boundary)
    if not count:  # not sent, or sent quiet (no stats): no rows to drop
        return rows
    if timestamps.count(boundary) == 1:  # one point: its rows are contiguous
        first = rows.times.index(boundary)
        last = first + count
        return Rows(rows.times[:first] + rows.times[last:], rows.stats[:first] + rows.stats[last:])
    keep = [i for i, ts in enumerate(rows.times) if ts != boundary]
    return Rows([rows.times[i] for i in keep], [rows.stats[i] for i in keep])


def vouched_from(after: int, before: int, period: int, limit: int) -> int:
    """The oldest bucket start an answer of at most ``limit`` buckets vouches for, asked for
    ``[after, before)``: ``after``, unless the window needs more buckets (with the one the
    API adds at ``before``), when only the newest ``limit - 1`` are in the window."""
    if (before - after) // period + 1 <= limit:
        return after
    return before - (limit - 1) * period


def _covered_from(timestamps: list[int], limit: int, asked: Question, ctx: RequestContext) -> int:
    """The oldest bucket start the answer vouches for: ``after``, unless it was cut."""
    slots = (asked.before - asked.after) // asked.period + 1
    if slots <= limit:
        return asked.after
    if limit < 2:
        raise _mismatch(
            "a cap that leaves no room",
            f"datapointLimit {limit}",
            "room for one bucket besides the one at beforeDate",
            ctx,
        )
    covered = vouched_from(asked.after, asked.before, asked.period, limit)
    older = [ts for ts in timestamps if ts < covered]
    if older:
        raise _mismatch(
            "a cut answer without its newest buckets",
            f"datapointLimit {limit} and a bucket at {older[0]}",
            f"the newest {limit} of {slots} bucket slots",
            ctx,
        )
    return covered


def reconcile(dataset: StatsResponse, asked: Question, ctx: RequestContext) -> Answered:
    """Check a parsed answer against ``asked``; return the rows of the window it covers."""
    _check_subject(dataset.period, dataset.media_offer_id, asked, ctx)
    _check_buckets(dataset.timestamps, asked, ctx)
    cap = dataset.datapoint_limit if dataset.datapoint_limit is not None else DATAPOINT_LIMIT
    covered = _covered_from(dataset.timestamps, cap, asked, ctx)
    rows = _without_boundary(dataset.rows, dataset.timestamps, asked.before)
    return Answered(rows, covered, cap)
