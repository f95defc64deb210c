"""One task's whole run as a function: a client, a lake and a spec in, a summary out.

The sequence every fetching task follows, without Airflow: check that the lake can be written,
plan what to buy (reusing what an earlier try staged), refuse a run over its budget, reserve
its estimate in the credit ledger, fetch and stage chunk by chunk, commit once, settle the
ledger with what was really sent. The operator turns Airflow's context into a
:class:`TaskSpec`, asks the hooks for the client and the lake, and calls :func:`run_task`;
tests, benchmarks and the planner call the same function.
"""

from __future__ import annotations

import asyncio
import logging
import time

from airflow_provider_fansly.client.engine import Log
from airflow_provider_fansly.client.fansly import FanslyClient
from airflow_provider_fansly.client.windows import days_of, iso_utc
from airflow_provider_fansly.exceptions import FanslyBudgetExceededError
from airflow_provider_fansly.ingest.fetcher import ChunkFetcher, FetchPlan
from airflow_provider_fansly.ingest.sink import RowSink, frozen_heap
from airflow_provider_fansly.ingest.spec import TaskSpec
from airflow_provider_fansly.ingest.summary import RunSummary
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.commit import commit_task
from airflow_provider_fansly.storage.features import writable_media_stats
from airflow_provider_fansly.storage.fetch_log import DayCounts, TaskFetch
from airflow_provider_fansly.storage.ledger import Reservation, reserve, settle
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.resume import Resume
from airflow_provider_fansly.storage.staging import Staging

__all__ = ["TaskSpec", "run_task"]

_log = logging.getLogger(__name__)


def run_task(
    client: FanslyClient,
    location: Location,
    spec: TaskSpec,
    log: Log = _log,
) -> RunSummary:
    """Fetch, validate and stage every chunk of ``spec``, then commit once; return what it did.

    Nothing is sent when the lake cannot be written or the run is over its budget; a failure
    anywhere commits nothing, and what was bought stays staged for the next try.
    """
    writable_media_stats(location)  # refusals cost nothing: before any request
    fetcher = ChunkFetcher(
        period=spec.period,
        max_in_flight=spec.max_in_flight,
        on_gone=spec.on_gone,
        unknown_stat_types=spec.unknown_stat_types,
        log=log,
    )
    oldest = int((time.time() - spec.resume_max_age.total_seconds()) * 1000)
    ids = list(spec.media_offer_ids)
    plan = fetcher.plan(ids, spec.window, Resume.load(location.store, spec.key, oldest))
    summary = RunSummary(
        spec.account_id, len(ids), spec.window, spec.period, plan.estimated_requests
    )
    summary.table = location.table_uri(layout.MEDIA_STATS_DIR)
    summary.output_path = location.output_path
    _check_budget(summary, client.settings.max_requests)
    reservation = _reserve(client, location, spec, summary)
    log.info(
        "Fetching %d media offer(s) of %s over [%s, %s) with period %d ms into %s: %d request(s)",
        len(ids),
        spec.account_id,
        iso_utc(spec.window[0]),
        iso_utc(spec.window[1]),
        spec.period,
        location,
        summary.estimated_requests,
    )
    outcome = "failed"
    try:
        _fetch_and_commit(client, location, fetcher, plan, spec, summary)
        outcome = "success"
    finally:
        _count(summary, client)
        _settle(location, reservation, client, outcome, log)
    log.info("Committed %s", summary.describe())
    return summary


def _check_budget(summary: RunSummary, budget: int | None) -> None:
    if budget is not None and summary.estimated_requests > budget:
        raise FanslyBudgetExceededError(
            f"this run needs {summary.estimated_requests} requests for "
            f"{summary.media_offers} media offer(s) but max_requests is {budget}; nothing "
            "was sent. Raise the budget or split the window"
        )


def _reserve(
    client: FanslyClient, location: Location, spec: TaskSpec, summary: RunSummary
) -> Reservation:
    """Reserve the run's estimate in the lake's credit ledger, within ``monthly_credits``."""
    return reserve(
        location,
        account_id=spec.account_id,
        task=spec.task,
        run_id=spec.run_id,
        try_number=spec.try_number,
        estimate=summary.estimated_requests,
        monthly_credits=client.settings.monthly_credits,
        tier=spec.tier,
    )


def _fetch_and_commit(
    client: FanslyClient,
    location: Location,
    fetcher: ChunkFetcher,
    plan: FetchPlan,
    spec: TaskSpec,
    summary: RunSummary,
) -> None:
    """Fetch and stage in this try's own folder, then commit. After the commit this try's
    folder and those it reused go; after a failure they stay for the retry."""
    ids = list(spec.media_offer_ids)
    staging = Staging(location.store, spec.key, f"try{spec.try_number}")
    staging.hold(plan.resume.folders)
    sink = _sink(staging, spec, summary)
    requests = DayCounts(ids, *summary.window)
    committed = False
    try:
        with frozen_heap():
            offers = asyncio.run(fetcher.fetch_and_stage(client, sink, plan, summary, requests))
        try:
            left_out = set(summary.gone) | set(summary.invalid)
            task = TaskFetch(
                account_id=spec.account_id,
                media_offer_ids=[m for m in ids if m not in left_out],
                period=spec.period,
                window=summary.window,
                run_id=spec.run_id,
                try_number=spec.try_number,
                fetched_at_ms=sink.fetched_at,
            )
            done = commit_task(
                location,
                staging,
                task,
                offers,
                sink.per_day,
                requests,
                gone=summary.gone,
                invalid=list(summary.invalid),
            )
        except BaseException:
            fetcher.checkpoint(sink)  # the answers are paid for, whatever comes next
            raise
        committed = True
    finally:
        staging.finish(committed)
    summary.rows, summary.days = sink.rows, len(days_of(*summary.window))
    summary.table_version, summary.commit_conflicts = done.version, done.conflicts
    summary.media_offers_updated = done.media_offers_updated
    summary.tags = done.tags


def _sink(staging: Staging, spec: TaskSpec, summary: RunSummary) -> RowSink:
    """The data path of this try: validate each fetched chunk and stage it."""
    after, before = summary.window
    return RowSink(
        staging,
        list(spec.media_offer_ids),
        after,
        before,
        spec.period,
        spec.unknown_stat_types,
        int(time.time() * 1000),
        quarantine=spec.on_invalid == "quarantine",
    )


def _count(summary: RunSummary, client: FanslyClient) -> None:
    counters = client.counters
    summary.requests = counters.requests
    summary.retries = counters.retries
    summary.rate_limited = counters.rate_limited
    summary.cut_answers = counters.cut_answers


def _settle(
    location: Location,
    reservation: Reservation,
    client: FanslyClient,
    outcome: str,
    log: Log,
) -> None:
    """Record what this try sent, failed sends included; never hide the task's own error."""
    counters = client.counters
    try:
        settle(location, reservation, counters.requests, counters.rate_limited, outcome)
    except Exception as error:
        log.warning(
            "Could not record this try's %d request(s) in the credit ledger: %s",
            counters.requests,
            error,
        )
