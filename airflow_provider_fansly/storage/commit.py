"""A task's commit: its rows into ``media_stats`` in one transaction, then its tags, its
metadata and its log.

The order matters for what a crash leaves. The data commit is the one that counts and is
atomic across every partition; the ``fyp_tags`` replace, the ``media_offers`` merge and the
fetch log append follow. Delta has no transaction across tables: a task that dies before its
fetch log leaves its window unmarked, and its rerun replaces the same rows and tags.
A task that dies after the data commit leaves rows the fetch log does not claim yet: coverage
reports the days as a gap and the rerun replaces the same rows, so nothing is doubled.

Once the data is committed the task must not fail for its metadata: every task merges into
the one ``media_offers`` table, so with many tasks at once those merges conflict often. They
retry patiently (:data:`METADATA_RETRY`); when even that runs out, the task logs which
metadata waits for the next fetch and goes on to its fetch log.
"""

from __future__ import annotations

import logging
from collections.abc import Sequence
from dataclasses import dataclass, replace

import pyarrow as pa

from airflow_provider_fansly.exceptions import FanslyCommitConflictError
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.delta import (
    FETCH_LOG_TABLE,
    FYP_TAGS_TABLE,
    ConflictRetry,
    append,
    mark_gone,
    merge_media_offers,
    open_table,
    replace_tags,
)
from airflow_provider_fansly.storage.fetch_log import (
    GONE,
    INVALID,
    DayCounts,
    TaskFetch,
    log_rows,
)
from airflow_provider_fansly.storage.files import Owned
from airflow_provider_fansly.storage.location import Location
from airflow_provider_fansly.storage.replace import replace_rows
from airflow_provider_fansly.storage.restatements import record_restatements
from airflow_provider_fansly.storage.staging import Staging

__all__ = ["METADATA_KEYS", "METADATA_RETRY", "TaskCommit", "commit_task"]

log = logging.getLogger(__name__)

#: What a task records with its commit (``fansly.<key>`` in Delta's commit info), in the
#: order ``fansly-lake history`` shows it.
METADATA_KEYS = ("run_id", "try_number", "window", "period_ms", "account_id", "media_offers")
#: How patiently the ``media_offers`` merge and gone flags retry a conflict (about two minutes
#: of jittered waits at most), after the data commit.
METADATA_RETRY = ConflictRetry(max_tries=40, max_delay=5.0)


@dataclass(frozen=True)
class TaskCommit:
    """The ``media_stats`` version a task committed (``None``: every media offer answered
    gone, nothing to replace) and the conflicts it retried on the way; whether
    ``media_offers`` took its metadata (``False``: it waits for the next fetch)."""

    version: int | None
    conflicts: int
    media_offers_updated: bool = True
    tags: int = 0


def commit_task(
    location: Location,
    staging: Staging,
    task: TaskFetch,
    offers: pa.Table,
    rows: DayCounts,
    requests: DayCounts,
    gone: Sequence[str] = (),
    invalid: Sequence[str] = (),
) -> TaskCommit:
    """Replace the task's rows with its staged ones, upsert its media, log what it fetched.

    ``gone`` media offers (answered deleted or not found) and ``invalid`` ones (set apart by
    validation) are outside the commit's predicate, so their history stays; gone ones are
    flagged in ``media_offers``; the fetch log records each with its status.
    """
    version, retried, tags = None, 0, 0
    if task.media_offer_ids:  # else every media offer answered gone: nothing to replace
        version, retried = _replace(location, staging, task, rows)
        tags, tag_retries = _replace_tags(location, staging, task)
        retried += tag_retries
    merged = _metadata(location, offers, task, gone, version)
    done = replace(task, table_version=version)
    entries = log_rows(done, rows, requests)
    if gone:
        missing = log_rows(replace(done, media_offer_ids=gone), None, None, GONE)
        entries = pa.concat_tables([entries, missing])
    if invalid:
        refused = log_rows(replace(done, media_offer_ids=invalid), None, requests, INVALID)
        entries = pa.concat_tables([entries, refused])
    retried += (merged or 0) + append(location, FETCH_LOG_TABLE, entries).retries
    return TaskCommit(version, retried, media_offers_updated=merged is not None, tags=tags)


def _replace(
    location: Location, staging: Staging, task: TaskFetch, rows: DayCounts
) -> tuple[int, int]:
    """Replace the task's rows in ``media_stats`` in one commit; record what it restated."""
    values = (
        task.run_id,
        task.try_number,
        f"[{task.window[0]}, {task.window[1]})",
        task.period,
        task.account_id,
        len(task.media_offer_ids),
    )
    metadata = {f"fansly.{k}": str(v) for k, v in zip(METADATA_KEYS, values, strict=True)}
    owned = Owned(task.account_id, tuple(task.media_offer_ids), task.period, *task.window)
    done = replace_rows(location, staging.reader, rows.per_day(), owned, metadata)
    _restatements(location, owned.predicate, done.version, task)
    return done.version, done.retries


def _replace_tags(location: Location, staging: Staging, task: TaskFetch) -> tuple[int, int]:
    """Replace the task's answers in ``fyp_tags`` (after the rows, before the fetch log that
    marks the window complete); return the tag rows and the conflicts retried. No table is
    made for none."""
    tags = staging.tag_table(task.account_id, task.period, task.window)
    if not tags.num_rows and open_table(location, FYP_TAGS_TABLE) is None:
        return 0, 0
    predicate = layout.tags_predicate(
        task.account_id, task.media_offer_ids, task.period, *task.window
    )
    return tags.num_rows, replace_tags(location, tags, predicate, METADATA_RETRY).retries


def _metadata(
    location: Location,
    offers: pa.Table,
    task: TaskFetch,
    gone: Sequence[str],
    version: int | None,
) -> int | None:
    """Merge the task's media metadata and flag its gone media offers; return the conflicts
    retried, or ``None`` when they ran out (logged: the data is committed, so is the task)."""
    try:
        retried = merge_media_offers(location, offers, METADATA_RETRY).retries
        if gone:
            flagged = mark_gone(
                location, task.account_id, list(gone), task.fetched_at_ms, METADATA_RETRY
            )
            retried += flagged.retries
    except FanslyCommitConflictError as error:
        log.warning(
            "media_stats version %d is committed, but media_offers kept conflicting with other "
            "tasks' merges: the metadata of %d media offer(s) of %s updates with their next "
            "fetch (%s)",
            version,
            offers.num_rows + len(gone),
            task.account_id,
            error,
        )
        return None
    return retried


def _restatements(location: Location, predicate: str, version: int, task: TaskFetch) -> None:
    """Record what the commit restated; the data is committed, so a failure here only warns."""
    try:
        record_restatements(
            location, predicate, version, task.period, task.run_id, task.fetched_at_ms
        )
    except Exception as error:
        log.warning("Could not record what version %d restated: %s", version, error)
