"""MediaStatsOperator: one window of media statistics into the partitioned Parquet lake.

The run is fetch -> validate -> stage, chunk by chunk (oldest first), and only then publish:
a failure anywhere publishes nothing. The data path itself (:mod:`..pipeline`) holds a
bounded batch of rows, never the window.
"""

from __future__ import annotations

import ast
import asyncio
import json
import time
from collections.abc import Sequence
from dataclasses import asdict, dataclass, field
from datetime import datetime, timedelta
from typing import TYPE_CHECKING, Any

from airflow.sdk import Asset, BaseOperator

from airflow_provider_fansly.exceptions import FanslyBudgetExceededError
from airflow_provider_fansly.hooks.fansly import FanslyHook
from airflow_provider_fansly.ids import check_id
from airflow_provider_fansly.models import MediaOffer, MediaStats
from airflow_provider_fansly.windows import (
    DAY_MS,
    Window,
    check_window,
    iso_utc,
    request_count,
    split_window,
    to_epoch_ms,
)

if TYPE_CHECKING:
    from airflow.sdk import Context

    from airflow_provider_fansly.schemas import UnknownStatTypes
    from airflow_provider_fansly.storage.writer import Stager

__all__ = [
    "MEDIA_STATS_ASSET",
    "MediaStatsOperator",
    "RunSummary",
    "batches",
    "parse_media_offer_ids",
]

#: The asset every MediaStatsOperator updates; schedule quality checks on it.
MEDIA_STATS_ASSET = Asset(name="fansly_media_stats", uri="fansly://media_stats")
_POLICIES = ("warn", "fail", "drop")


@dataclass
class RunSummary:
    """What one run did; returned to XCom as a small dict."""

    account_id: str
    media_offers: int
    window: tuple[int, int]
    period_ms: int
    estimated_requests: int
    requests: int = 0
    retries: int = 0
    rate_limited: int = 0
    rows: int = 0
    partitions: int = 0
    files: int = 0
    validation_warnings: int = 0
    unknown_stat_types: dict[str, int] = field(default_factory=dict)
    unknown_fields: list[str] = field(default_factory=list)


def parse_media_offer_ids(value: str | Sequence[str]) -> list[str]:
    """Accept one id, a list, or a JSON / Python list rendered by a template; check each.

    Duplicates are dropped (first one wins) so that no media offer is fetched twice.
    """
    if isinstance(value, str):
        text = value.strip()
        if text.startswith("["):
            try:
                value = json.loads(text)
            except ValueError:
                value = ast.literal_eval(text)
        else:
            value = [text]
    ids = list(dict.fromkeys(check_id(v, "media_offer_id") for v in value))
    if not ids:
        raise ValueError("media_offer_ids is empty: give at least one media offer id")
    return ids


def batches(value: str | Sequence[str], size: int) -> list[list[str]]:
    """Cut a list of media offer ids (or its JSON) into batches for dynamic task mapping.

    Keep the order of the list stable and append new ids at its end: a batch's files are
    keyed by its ids, so re-cut batches rewrite (correctly, but at a cost) what they touch.
    """
    if size < 1:
        raise ValueError(f"batch size must be at least 1, got {size}")
    ids = parse_media_offer_ids(value)
    return [ids[i : i + size] for i in range(0, len(ids), size)]


def _lookback_ms(lookback: timedelta | float | str | None) -> int:
    if lookback is None or lookback == "":
        return 0
    try:
        ms = (
            int(lookback.total_seconds() * 1000)
            if isinstance(lookback, timedelta)
            else int(float(lookback) * DAY_MS)
        )
    except (TypeError, ValueError):
        raise ValueError(
            f"lookback must be a timedelta or a number of days, got {lookback!r}"
        ) from None
    if ms < 0:
        raise ValueError(f"lookback must not be negative, got {lookback!r}")
    return ms


class MediaStatsOperator(BaseOperator):
    """Fetch media statistics for a window and publish them as partitioned Parquet.

    :param account_id: the vendor's id of the connected account (templated).
    :param media_offer_ids: one id, a list, or a JSON list string (templated).
    :param output_path: lake root: a local path or an ``ObjectStoragePath`` URL (templated).
    :param period: bucket length in ms: 86,400,000 (daily) or 3,600,000 (hourly).
    :param after_date: window start (epoch ms, aware datetime or ISO-8601; templated);
        with ``before_date`` it replaces the run's data interval. A template that renders
        empty means "not given".
    :param before_date: window end, exclusive (templated).
    :param lookback: also re-fetch this much before the window (a timedelta or days; templated,
        so a DAG can skip it in backfills), for stats that arrive late; it costs the requests
        of the longer window, which is nothing extra while the window stays under 99 buckets.
    :param unknown_stat_types: ``"warn"`` keeps and counts them, ``"drop"``, or ``"fail"``.
    :param max_requests: stop before sending more requests than this (a credit budget).
    :param max_in_flight: media offers fetched at once (under the hook's pacing).
    """

    template_fields: Sequence[str] = (
        "account_id",
        "media_offer_ids",
        "output_path",
        "after_date",
        "before_date",
        "lookback",
    )
    ui_color = "#1da1f2"

    def __init__(
        self,
        *,
        account_id: str,
        media_offer_ids: str | list[str],
        output_path: str,
        period: int = DAY_MS,
        after_date: int | str | datetime | None = None,
        before_date: int | str | datetime | None = None,
        lookback: timedelta | float | str | None = None,
        unknown_stat_types: UnknownStatTypes = "warn",
        fansly_conn_id: str = FanslyHook.default_conn_name,
        max_requests: int | None = None,
        max_in_flight: int = 16,
        **kwargs: Any,
    ) -> None:
        kwargs.setdefault("outlets", [MEDIA_STATS_ASSET])
        super().__init__(**kwargs)
        if not isinstance(period, int) or period <= 0:
            raise ValueError(f"period must be a positive number of milliseconds, got {period!r}")
        if unknown_stat_types not in _POLICIES:
            raise ValueError(
                f"unknown_stat_types must be one of {_POLICIES}, got {unknown_stat_types!r}"
            )
        if max_in_flight < 1:
            raise ValueError(f"max_in_flight must be at least 1, got {max_in_flight}")
        self.account_id = account_id
        self.media_offer_ids = media_offer_ids
        self.output_path = output_path
        self.period = period
        self.after_date = after_date
        self.before_date = before_date
        self.lookback = lookback
        if not isinstance(lookback, str):
            _lookback_ms(lookback)  # refuse a bad value when the DAG is parsed
        self.unknown_stat_types = unknown_stat_types
        self.fansly_conn_id = fansly_conn_id
        self.max_requests = max_requests
        self.max_in_flight = max_in_flight

    # -- the window ----------------------------------------------------------------------------
    def resolve_window(self, context: Context | dict[str, Any]) -> Window:
        """Return ``[after, before)`` in epoch ms, lookback included; refuse impossible ones."""
        given = [d not in (None, "") for d in (self.after_date, self.before_date)]
        if any(given):
            if not all(given):
                raise ValueError("give both after_date and before_date, or neither")
            after = to_epoch_ms(self.after_date, "after_date")  # type: ignore[arg-type]
            before = to_epoch_ms(self.before_date, "before_date")  # type: ignore[arg-type]
        else:
            start, end = context.get("data_interval_start"), context.get("data_interval_end")
            if start is None or end is None:
                raise ValueError(
                    "this run has no data interval (a manual run without a logical date?): "
                    "pass after_date and before_date, or trigger it with a logical date"
                )
            after, before = to_epoch_ms(start), to_epoch_ms(end)
        check_window(after, before, self.period)
        after -= _lookback_ms(self.lookback)
        check_window(after, before, self.period)
        return after, before

    # -- the run -----------------------------------------------------------------------------
    def execute(self, context: Context) -> dict[str, Any]:
        """Fetch, validate and stage every chunk, then publish; return a small summary."""
        account = check_id(self.account_id, "account_id")
        ids = parse_media_offer_ids(self.media_offer_ids)
        after, before = self.resolve_window(context)
        hook = FanslyHook(self.fansly_conn_id, max_requests=self.max_requests)
        summary = RunSummary(
            account,
            len(ids),
            (after, before),
            self.period,
            len(ids) * request_count(after, before, self.period),
        )
        self._check_budget(summary, hook.max_requests)
        self.log.info(
            "Fetching %d media offer(s) of %s over [%s, %s) with period %d ms: %d request(s)",
            len(ids),
            account,
            iso_utc(after),
            iso_utc(before),
            self.period,
            summary.estimated_requests,
        )
        # The data path (pyarrow, polars, pandera, object storage) loads when a task runs,
        # never when a DAG file that uses this operator is parsed.
        from airflow_provider_fansly.pipeline import frozen_heap
        from airflow_provider_fansly.storage.publish import publish
        from airflow_provider_fansly.storage.store import Store
        from airflow_provider_fansly.storage.writer import Stager

        stager = Stager(Store(self.output_path), account, ids, self.period, after, before)
        try:
            with frozen_heap():
                asyncio.run(self._fetch_and_stage(hook, stager, ids, summary))
            summary.files = publish(stager)
        except BaseException:
            stager.discard()
            raise
        finally:
            hook.close()
            self._count(summary, hook)
        self.log.info("Published %s", _describe(summary))
        return asdict(summary)

    def _check_budget(self, summary: RunSummary, budget: int | None) -> None:
        if budget is not None and summary.estimated_requests > budget:
            raise FanslyBudgetExceededError(
                f"this run needs {summary.estimated_requests} requests ({summary.media_offers} "
                f"media offer(s) x {summary.estimated_requests // summary.media_offers} each) but "
                f"max_requests is {budget}; nothing was sent. Raise the budget or split the window"
            )

    @staticmethod
    def _count(summary: RunSummary, hook: FanslyHook) -> None:
        summary.requests = hook.counters.requests
        summary.retries = hook.counters.retries
        summary.rate_limited = hook.counters.rate_limited

    async def _fetch_and_stage(
        self, hook: FanslyHook, stager: Stager, ids: list[str], summary: RunSummary
    ) -> None:
        after, before = summary.window
        chunks = split_window(after, before, self.period)
        fetched_at = int(time.time() * 1000)
        from airflow_provider_fansly.pipeline import RowSink
        from airflow_provider_fansly.storage.columns import media_offers_table

        sink = RowSink(stager, after, before, self.period, self.unknown_stat_types, fetched_at)
        media: dict[str, MediaOffer] = {}
        wanted = set(ids)
        slots = asyncio.Semaphore(self.max_in_flight)
        upcoming: list[asyncio.Task[MediaStats]] = []
        try:
            upcoming = self._start(hook, slots, stager.account_id, ids, chunks[0])
            for index, (lo, hi) in enumerate(chunks):
                current = upcoming
                if index + 1 < len(chunks):
                    upcoming = self._start(hook, slots, stager.account_id, ids, chunks[index + 1])
                results = await _gather(current)
                self._note_new_fields(results, summary)
                self._note_unknown_types(sink.add(results, lo, hi), summary)
                media.update((m.id, m) for r in results for m in r.media if m.id in wanted)
                self._progress(index + 1, len(chunks), hook, summary)
            self._note_unknown_types(sink.finish(), summary)
            stager.stage_media_offers(
                media_offers_table(stager.account_id, media.values(), fetched_at)
            )
        finally:
            _cancel(upcoming)
            await hook.aclose()
        summary.rows, summary.partitions = sink.rows, sink.partitions

    def _start(
        self,
        hook: FanslyHook,
        slots: asyncio.Semaphore,
        account: str,
        ids: list[str],
        chunk: Window,
    ) -> list[asyncio.Task[MediaStats]]:
        """Start fetching one chunk for every media offer (at most ``max_in_flight`` at once).

        Logs progress each time another quarter of the media offers is done.
        """
        done = [0]
        step = max(1, len(ids) // 4)

        async def one(media_offer_id: str) -> MediaStats:
            async with slots:
                stats = await hook.aget_media_stats(
                    account, media_offer_id, after=chunk[0], before=chunk[1], period=self.period
                )
            done[0] += 1
            if done[0] % step == 0 and done[0] < len(ids):
                self.log.info(
                    "Media offers done: %d of %d in [%s, %s); %d request(s), %d retried",
                    done[0],
                    len(ids),
                    iso_utc(chunk[0]),
                    iso_utc(chunk[1]),
                    hook.counters.requests,
                    hook.counters.retries,
                )
            return stats

        return [asyncio.create_task(one(m)) for m in ids]

    def _note_new_fields(self, results: list[MediaStats], summary: RunSummary) -> None:
        """Log each stat field the API newly sends, once per task."""
        for result in results:
            for name in sorted(result.unknown_fields - set(summary.unknown_fields)):
                self.log.warning("The API sent a new stat field %r: ignored", name)
                summary.unknown_fields.append(name)

    def _note_unknown_types(self, unknown: dict[int, int], summary: RunSummary) -> None:
        """Log each unknown stat type once and count its rows (policy ``warn`` or ``drop``)."""
        for code, rows in unknown.items():
            if str(code) not in summary.unknown_stat_types:
                self.log.warning(
                    "Unknown stat type %d (%s): %d row(s)", code, self.unknown_stat_types, rows
                )
            summary.unknown_stat_types[str(code)] = (
                summary.unknown_stat_types.get(str(code), 0) + rows
            )
            summary.validation_warnings += rows

    def _progress(self, done: int, total: int, hook: FanslyHook, summary: RunSummary) -> None:
        self.log.info(
            "Chunk %d/%d done for %d media offer(s): %d request(s) sent of %d estimated, "
            "%d retried, %d rate-limited",
            done,
            total,
            summary.media_offers,
            hook.counters.requests,
            summary.estimated_requests,
            hook.counters.retries,
            hook.counters.rate_limited,
        )


async def _gather(tasks: list[asyncio.Task[MediaStats]]) -> list[MediaStats]:
    """Wait for every task; on the first failure cancel the rest and raise it."""
    try:
        return list(await asyncio.gather(*tasks))
    except BaseException:
        _cancel(tasks)
        raise


def _cancel(tasks: list[asyncio.Task[MediaStats]]) -> None:
    for task in tasks:
        task.cancel()


def _describe(summary: RunSummary) -> str:
    return (
        f"{summary.rows} row(s) in {summary.partitions} partition(s), {summary.files} file(s); "
        f"{summary.requests} request(s) ({summary.estimated_requests} estimated), "
        f"{summary.retries} retried, {summary.validation_warnings} validation warning(s)"
    )
