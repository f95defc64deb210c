"""The ``fyp_tags`` table's columns: the tags each answer reported as bringing For-You-page
traffic, as a try stages them (:class:`TagRow`) and as the table holds them."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any, NamedTuple

import pyarrow as pa

from airflow_provider_fansly.client.models import FypTag, MediaStats
from airflow_provider_fansly.storage.columns import TIMESTAMP, ms_to_timestamp

__all__ = ["FYP_TAGS_SCHEMA", "TAG_NUMBERS", "TagRow", "fyp_tags_table", "tag_rows"]


#: The ``fyp_tags`` Delta table: the tags each answer reported as bringing For-You-page
#: traffic over the window it covered (``window_start``, ``window_end``), with their numbers.
#: Windows of different runs overlap (a daily run with lookback asks again for yesterday):
#: docs/dataset.md says how to read them.
FYP_TAGS_SCHEMA = pa.schema(
    [
        pa.field("account_id", pa.string(), nullable=False),
        pa.field("media_offer_id", pa.string(), nullable=False),
        pa.field("window_start", TIMESTAMP, nullable=False),
        pa.field("window_end", TIMESTAMP, nullable=False),
        pa.field("tag_id", pa.string(), nullable=False),
        pa.field("tag_name", pa.string()),
        pa.field("views", pa.int64(), nullable=False),
        pa.field("preview_views", pa.int64(), nullable=False),
        pa.field("interaction_time_ms", pa.int64(), nullable=False),
        pa.field("preview_interaction_time_ms", pa.int64(), nullable=False),
        pa.field("fetched_at", TIMESTAMP, nullable=False),
        # the window the task asked: a task's answers are replaced by its own rerun only
        pa.field("task_window_start", TIMESTAMP, nullable=False),
        pa.field("task_window_end", TIMESTAMP, nullable=False),
        pa.field("period_ms", pa.int64(), nullable=False),
        pa.field("dt", pa.date32(), nullable=False),
    ]
)


class TagRow(NamedTuple):
    """One tag of one answer as a try stages it: the media offer, the window the answer
    covered (epoch ms), the tag, its numbers, and when it was fetched."""

    media_offer_id: str
    window_start_ms: int
    window_end_ms: int
    tag_id: str
    tag_name: str | None
    views: int
    preview_views: int
    interaction_time_ms: int
    preview_interaction_time_ms: int
    fetched_at_ms: int

    @property
    def numbers(self) -> tuple[int, int, int, int]:
        """The tag's counts, by name: views, preview views and the two interaction times."""
        return tuple(getattr(self, c) for c in TAG_NUMBERS)


#: The counts of a tag row, by name (the ``fyp_tags`` columns and :class:`TagRow` fields).
TAG_NUMBERS = ("views", "preview_views", "interaction_time_ms", "preview_interaction_time_ms")


def _tag_numbers(tag: FypTag) -> tuple[str, str | None, int, int, int, int]:
    return (tag.tag_id, tag.name, tag.views, tag.preview_views, tag.interaction_time_ms,
            tag.preview_interaction_time_ms)  # fmt: skip


def tag_rows(results: Sequence[MediaStats], fetched_at_ms: int) -> list[TagRow]:
    """Every tag of every answer of ``results``."""
    return [
        TagRow(r.media_offer_id, w.after, w.before, *_tag_numbers(t), fetched_at_ms)
        for r in results
        for w in r.tags
        for t in w.tags
    ]


def fyp_tags_table(
    account_id: str, period: int, task_window: tuple[int, int], rows: Sequence[TagRow]
) -> pa.Table:
    """One table of :data:`FYP_TAGS_SCHEMA` for a task of ``task_window``; ``dt`` is the UTC
    date each answer's window starts."""
    columns: list[Sequence[Any]] = [[] for _ in TagRow._fields]
    if rows:
        columns = list(zip(*rows, strict=True))
    by_name = dict(zip(TagRow._fields, columns, strict=True))
    starts = pa.array(by_name["window_start_ms"], pa.int64())
    return pa.Table.from_arrays(
        [
            pa.repeat(pa.scalar(account_id), len(rows)),
            pa.array(by_name["media_offer_id"], pa.string()),
            ms_to_timestamp(starts),
            ms_to_timestamp(pa.array(by_name["window_end_ms"], pa.int64())),
            pa.array(by_name["tag_id"], pa.string()),
            pa.array(by_name["tag_name"], pa.string()),
            *(pa.array(by_name[c], pa.int64()) for c in TAG_NUMBERS),
            ms_to_timestamp(pa.array(by_name["fetched_at_ms"], pa.int64())),
            *(pa.repeat(pa.scalar(ms * 1000, TIMESTAMP), len(rows)) for ms in task_window),
            pa.repeat(pa.scalar(period, pa.int64()), len(rows)),
            ms_to_timestamp(starts).cast(pa.date32()),
        ],
        schema=FYP_TAGS_SCHEMA,
    )
