"""Fetch a window chunk by chunk for every media offer of a task, into the data path.

The next chunk is already in flight while the current one is validated and staged; every
request goes through the client's pacing, at most ``max_in_flight`` at once. Along the way it
keeps the run's summary (progress, new fields, unknown stat types, the API's bucket cap,
media offers answered gone) and logs each in one line.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Literal

from airflow_provider_fansly.client.engine import Log
from airflow_provider_fansly.client.fansly import FanslyClient
from airflow_provider_fansly.client.models import MediaStats
from airflow_provider_fansly.client.retry import is_gone
from airflow_provider_fansly.client.windows import (
    Window,
    day_of,
    iso_utc,
    request_count,
    split_window,
)
from airflow_provider_fansly.exceptions import (
    FanslyBudgetExceededError,
    FanslyDataError,
    FanslyGoneError,
    FanslyRequestError,
)
from airflow_provider_fansly.ingest.summary import RunSummary

if TYPE_CHECKING:
    import pyarrow as pa

    from airflow_provider_fansly.ingest.sink import RowSink
    from airflow_provider_fansly.storage.fetch_log import DayCounts
    from airflow_provider_fansly.storage.resume import Resume, Reused

__all__ = ["CHECKPOINT_SECONDS", "ChunkFetcher", "FetchPlan"]

#: How often a long try stages what it holds, so that even a killed try leaves most of it.
CHECKPOINT_SECONDS = 60.0


@dataclass(frozen=True)
class FetchPlan:
    """The chunks of a window, the media offers to fetch in each, and the requests needed."""

    chunks: list[Window]
    todo: list[list[str]]
    estimated_requests: int
    resume: Resume


class ChunkFetcher:
    """Fetch every chunk of a window for a task's media offers; the settings of one run."""

    def __init__(
        self,
        *,
        period: int,
        max_in_flight: int,
        on_gone: Literal["skip", "fail"],
        unknown_stat_types: str,
        log: Log,
    ) -> None:
        self.period = period
        self.max_in_flight = max_in_flight
        self.on_gone = on_gone
        self.unknown_stat_types = unknown_stat_types
        self.log = log
        self._checkpointed = time.monotonic()

    def plan(self, ids: list[str], window: Window, resume: Resume) -> FetchPlan:
        """Split the window into chunks; in each, the media offers earlier tries do not hold.
        The plan's ``resume`` is ``resume`` with what it reuses taken (``resume`` is kept)."""
        chunks = split_window(*window, self.period)
        todo: list[list[str]] = []
        taken: list[Reused] = []
        for chunk in chunks:
            held = {m: resume.covering(m, *chunk) for m in ids}
            todo.append([m for m in ids if held[m] is None])
            taken.extend(part for parts in held.values() if parts for part in parts)
        estimate = sum(
            len(asked) * request_count(*chunk, self.period)
            for chunk, asked in zip(chunks, todo, strict=True)
        )
        return FetchPlan(chunks, todo, estimate, resume.taking(taken))

    async def fetch_and_stage(
        self,
        client: FanslyClient,
        sink: RowSink,
        plan: FetchPlan,
        summary: RunSummary,
        requests: DayCounts,
    ) -> pa.Table:
        """Fetch every chunk (the next one already in flight) into the sink; return the
        media metadata table. ``requests`` counts answers per media offer and day.

        On any failure, what was fetched and validated is checkpointed, for Airflow's retry
        or a clear to reuse.
        """
        from airflow_provider_fansly.storage.columns import media_offers_table

        slots = asyncio.Semaphore(self.max_in_flight)
        gone: dict[str, FanslyRequestError] = {}
        asked = {m for ids in plan.todo for m in ids}
        current: list[asyncio.Task[MediaStats | None]] = []
        upcoming: list[asyncio.Task[MediaStats | None]] = []
        try:
            upcoming = self._start(client, slots, summary.account_id, plan, 0, gone, sink.invalid)
            for index in range(len(plan.chunks)):
                current = upcoming
                upcoming = self._start(
                    client, slots, summary.account_id, plan, index + 1, gone, sink.invalid
                )
                results = [r for r in await _gather(current) if r is not None]
                self._take(results, sink, summary, requests)
                self._follow_limit(client, summary)
                self._progress(index + 1, len(plan.chunks), client, summary)
                self._checkpoint_now_and_then(sink)
            self._note_unknown_types(sink.finish(), summary)
            involved = asked | plan.resume.media_offer_ids
            if gone and len(gone) == len(involved):  # before the client closes
                await self._check_account(client, summary, next(iter(gone.values())))
        except BaseException as error:
            if isinstance(error, FanslyBudgetExceededError):  # no more can be sent: let
                await _settle(current + upcoming)  # the answers on their way land
            # answers are paid for: stage them for the retry, or a clear after a fix
            self._take(_finished(current + upcoming), sink, summary, requests)
            self.checkpoint(sink)
            raise
        finally:
            _cancel(upcoming)
            await client.aclose()
        self._reuse(plan.resume, sink, summary, requests)
        self._note_gone(gone, summary)
        self._note_invalid(sink, len(involved) - len(gone), summary)
        media = {**plan.resume.media, **sink.media}
        offers = [media[m] for m in sorted(set(media) & involved - set(sink.invalid))]
        return media_offers_table(summary.account_id, offers, sink.fetched_at)

    def _take(
        self,
        results: list[MediaStats],
        sink: RowSink,
        summary: RunSummary,
        requests: DayCounts,
    ) -> None:
        """Hand one chunk's results to the sink; note new fields and unknown stat types."""
        self._note_new_fields(results, summary)
        self._note_unknown_types(sink.add(results), summary)
        for r in results:
            requests.add(r.media_offer_id, day_of(r.after), r.requests)

    def _reuse(
        self,
        resume: Resume,
        sink: RowSink,
        summary: RunSummary,
        requests: DayCounts,
    ) -> None:
        """Commit what earlier tries staged along with this try's rows; log what it saved."""
        if not resume.taken:
            return
        sink.reuse(resume.tables())
        sink.staging.reuse(resume.tables, resume.tag_rows)
        for reused in resume.taken:
            piece = reused.piece
            requests.add(piece.media_offer_id, day_of(piece.after), piece.requests)
        summary.reused_requests = resume.requests
        self.log.info(
            "Reused %d piece(s) (media offer x chunk) that earlier tries of this task fetched "
            "and staged, %d row(s): %d request(s) not bought again",
            len(resume.taken),
            sink.reused_rows,
            resume.requests,
        )

    def _checkpoint_now_and_then(self, sink: RowSink) -> None:
        """Checkpoint every CHECKPOINT_SECONDS, so a killed try leaves most of its work."""
        if time.monotonic() - self._checkpointed >= CHECKPOINT_SECONDS:
            self.checkpoint(sink)

    def checkpoint(self, sink: RowSink) -> None:
        """Stage what this try holds for a retry; a failure to do so is logged, not raised."""
        self._checkpointed = time.monotonic()
        try:
            pieces = sink.checkpoint()
        except Exception as error:  # the task's own error matters more
            self.log.warning("Could not stage this try's rows for a retry: %s", error)
            return
        if pieces:
            self.log.info(
                "Staged %d piece(s) (media offer x chunk) in %s for a retry to reuse",
                pieces,
                sink.staging.dir,
            )

    async def _check_account(
        self, client: FanslyClient, summary: RunSummary, first: FanslyRequestError
    ) -> None:
        """Every media offer answered gone: ask whether the account itself is (one request,
        counted in the estimate, the budget and the ledger); raise if it is."""
        summary.estimated_requests += 1
        self.log.info(
            "Every media offer of this task (%d) answered gone: asking the API whether account "
            "%s is still connected to the key (1 more request)",
            summary.media_offers,
            summary.account_id,
        )
        if not await client.ais_connected(summary.account_id):
            raise FanslyGoneError(
                f"account {summary.account_id!r} is not among the accounts connected to this "
                f"key, and every media offer of this task ({summary.media_offers}) answered "
                f"gone; nothing was committed. Reconnect the account or remove it from the "
                f"DAG. First answer: {first}"
            ) from first

    def _note_gone(self, gone: dict[str, FanslyRequestError], summary: RunSummary) -> None:
        """Record the media offers answered gone (deleted, or not found), and log them."""
        if not gone:
            return
        first = next(iter(gone.values()))
        summary.gone = sorted(gone)
        self.log.warning(
            "%d media offer(s) answered gone (deleted, or not found) and were skipped; their "
            "history is kept and the fetch log records them as gone: %s. First answer: %s",
            len(gone),
            ", ".join(summary.gone),
            first,
        )

    def _note_invalid(self, sink: RowSink, media_offers: int, summary: RunSummary) -> None:
        """Record the media offers set apart as invalid; all of them invalid fails the task."""
        invalid = sink.invalid
        if not invalid:
            return
        reports = "\n".join(f"media offer {m}: {report}" for m, report in sorted(invalid.items()))
        if len(invalid) >= media_offers:
            raise FanslyDataError(
                f"every media offer of this task that answered ({media_offers}) failed "
                f"validation; nothing was published:\n{reports}"
            )
        summary.invalid = dict(sorted(invalid.items()))
        summary.invalid_rules = {m: list(sink.broken_rules.get(m, ())) for m in summary.invalid}
        self.log.warning(
            "%d media offer(s) set apart (on_invalid='quarantine'): their rows broke the "
            "data-quality rules, so they are left out of the commit, their history is kept and "
            "the fetch log records them as invalid:\n%s",
            len(invalid),
            reports,
        )

    def _start(
        self,
        client: FanslyClient,
        slots: asyncio.Semaphore,
        account: str,
        plan: FetchPlan,
        index: int,
        gone: dict[str, FanslyRequestError],
        invalid: Mapping[str, str],
    ) -> list[asyncio.Task[MediaStats | None]]:
        """Start fetching chunk ``index`` for the media offers it needs (at most
        ``max_in_flight`` at once; none past the last chunk).

        A media offer answered gone is recorded in ``gone`` (``on_gone="skip"``) and not asked
        again, nor is one set apart as ``invalid``. Logs progress each time another quarter of
        the media offers is done.
        """
        if index >= len(plan.chunks):
            return []
        chunk, ids = plan.chunks[index], plan.todo[index]
        done = [0]
        step = max(1, len(ids) // 4)

        async def one(media_offer_id: str) -> MediaStats | None:
            if media_offer_id in gone or media_offer_id in invalid:
                return None
            async with slots:
                try:
                    stats = await client.aget_media_stats(
                        account, media_offer_id, after=chunk[0], before=chunk[1], period=self.period
                    )
                except FanslyRequestError as error:
                    if self.on_gone == "fail" or not is_gone(error):
                        raise
                    gone[media_offer_id] = error
                    return None
            done[0] += 1
            if done[0] % step == 0 and done[0] < len(ids):
                self.log.info(
                    "Media offers done: %d of %d in [%s, %s); %d request(s), %d retried",
                    done[0],
                    len(ids),
                    iso_utc(chunk[0]),
                    iso_utc(chunk[1]),
                    client.counters.requests,
                    client.counters.retries,
                )
            return stats

        return [asyncio.create_task(one(m)) for m in ids]

    def _note_new_fields(self, results: list[MediaStats], summary: RunSummary) -> None:
        """Log each stat field the API newly sends, once per task (its numbers are kept in
        ``extra_stats``, anything else is not)."""
        for result in results:
            for name in sorted(result.unknown_fields - set(summary.unknown_fields)):
                self.log.warning(
                    "The API sent a new stat field %r: its numbers are kept in extra_stats", name
                )
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

    def _progress(self, done: int, total: int, client: FanslyClient, summary: RunSummary) -> None:
        self.log.info(
            "Chunk %d/%d done for %d media offer(s): %d request(s) sent of %d estimated, "
            "%d retried, %d rate-limited",
            done,
            total,
            summary.media_offers,
            client.counters.requests,
            summary.estimated_requests,
            client.counters.retries,
            client.counters.rate_limited,
        )

    def _follow_limit(self, client: FanslyClient, summary: RunSummary) -> None:
        """Re-estimate the requests once the API reports a smaller bucket cap than 100."""
        if client.datapoint_limit == summary.datapoint_limit:
            return
        after, before = summary.window
        per_media = request_count(after, before, self.period, client.datapoint_limit - 1)
        summary.datapoint_limit = client.datapoint_limit
        summary.estimated_requests = summary.media_offers * per_media + client.counters.cut_answers
        self.log.warning(
            "Re-estimated for the API's cap of %d buckets per answer: %d request(s) (%d media "
            "offer(s) x %d, plus %d for answers already cut)",
            client.datapoint_limit,
            summary.estimated_requests,
            summary.media_offers,
            per_media,
            client.counters.cut_answers,
        )


async def _gather(tasks: list[asyncio.Task[MediaStats | None]]) -> list[MediaStats | None]:
    """Wait for every task; on the first failure cancel the rest and raise it (a used-up
    budget cancels nothing: what is in flight is paid for, and nothing more can be sent)."""
    try:
        return list(await asyncio.gather(*tasks))
    except FanslyBudgetExceededError:
        raise
    except BaseException:
        _cancel(tasks)
        raise


async def _settle(tasks: list[asyncio.Task[MediaStats | None]]) -> None:
    """Wait until every task has its answer or its error."""
    if tasks:
        await asyncio.wait(tasks)


def _finished(tasks: list[asyncio.Task[MediaStats | None]]) -> list[MediaStats]:
    """The results of the tasks that completed, for a failed chunk to keep what it got."""
    return [
        result
        for task in tasks
        if task.done() and not task.cancelled() and task.exception() is None
        if (result := task.result()) is not None
    ]


def _cancel(tasks: list[asyncio.Task[MediaStats | None]]) -> None:
    for task in tasks:
        task.cancel()
