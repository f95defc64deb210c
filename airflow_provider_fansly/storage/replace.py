"""The one commit that swaps a task's ``media_stats`` files in, its outcome read from the log.

delta-rs cannot be told what a commit of prepared files read, so its conflict check cannot
protect this one: each commit goes on top of exactly the snapshot it was prepared against
(``max_commit_retries=0``). When another commit got there first, the files that commit added
or removed are compared with what this one replaces (:func:`_touched`). Other accounts', media
offers' or days' files: the same actions go on top of the new snapshot (a rebase, nothing
redone). A file that may hold rows this task replaces, or a file it replaces that another
commit removed: a conflict, and the files to replace are worked out again from the new one.

What delta-rs reports is not always what happened: an object store retries a timed-out
``PUT`` of the log entry, the retry finds the entry written, and the client sees a failure
for a commit that landed. So every commit carries a unique id (:data:`COMMIT_ID_KEY` in its
commit info), and after any failure the versions newer than its snapshot are searched for it
first: found there, the commit succeeded. A file this path wrote is deleted only once the log
shows that no version names it. A failure with no newer version is no race: a refusal
(append-only, an unsupported feature) is raised at once with delta-rs's message, a store
error is tried again a bounded number of times.
"""

from __future__ import annotations

import logging
import random
import time
import uuid
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

import pyarrow as pa
import pyarrow.compute as pc
from deltalake import CommitProperties, DeltaTable
from deltalake.exceptions import CommitFailedError, DeltaError, DeltaProtocolError
from deltalake.transaction import AddAction, RemoveAction

from airflow_provider_fansly.exceptions import (
    FanslyCommitConflictError,
    FanslyLakeError,
    FanslyLakeStoreError,
)
from airflow_provider_fansly.storage import layout
from airflow_provider_fansly.storage.actions import live_files
from airflow_provider_fansly.storage.columns import PARTITION_COLUMNS
from airflow_provider_fansly.storage.delta import (
    MEDIA_STATS_TABLE,
    Commit,
    ConflictRetry,
    ensure_table,
)
from airflow_provider_fansly.storage.features import check_writable
from airflow_provider_fansly.storage.files import (
    Owned,
    Rows,
    replaced,
    row_count,
    write_days,
)
from airflow_provider_fansly.storage.location import Location

__all__ = [
    "COMMIT_ID_KEY",
    "ROWS_KEY",
    "find_commit",
    "replace_files",
    "replace_rows",
    "replace_table",
    "rows_added",
]

log = logging.getLogger(__name__)

#: Where each commit of this path records its unique id, to recognise it in the log.
COMMIT_ID_KEY = "fansly.commit_id"
#: Where 0.5 recorded the rows a commit of prepared files added (read for its history only;
#: commits now carry delta-rs's own ``operationMetrics``).
ROWS_KEY = "fansly.rows_added"
#: How often a commit goes on top of a newer snapshot that touched nothing of its own.
_REBASES = 200
#: How often a store error that left no version behind is tried again.
_STORE_TRIES = 5
_RETRY = ConflictRetry()
#: What delta-rs raises for a refused or failed commit; object stores' errors come as OSError.
_FAILED = (DeltaError, OSError)


@dataclass(frozen=True)
class _Changes:
    """One try's actions: the task's own files, the rewrites of files it shares, removals."""

    adds: list[AddAction]
    rewritten: list[AddAction]
    removes: list[RemoveAction]


def replace_files(
    location: Location,
    adds: list[AddAction],
    owned: Owned,
    metadata: dict[str, str],
    retry: ConflictRetry = _RETRY,
    snapshot: DeltaTable | None = None,
) -> Commit:
    """Commit ``adds`` and the removal of every row ``owned`` selects, in one transaction
    (``snapshot``: the table as opened before the files were written, brought up to date).

    On a conflict the files to replace are worked out again against the newer snapshot
    (``adds`` stay written). When it fails for good (conflicts past ``retry.max_tries``, a
    refusal, a failing store) nothing is committed, as the log shows, and the files it wrote
    are deleted.
    """
    started, pending = time.monotonic(), list[AddAction]()
    try:
        for conflict in range(retry.max_tries):
            snapshot = _latest(location, snapshot if conflict == 0 else None)
            check_writable(snapshot)
            removes, pending = replaced(location, snapshot, owned)
            changes = _Changes(adds, pending, removes)
            commit_id = str(uuid.uuid4())
            info = {**metadata, COMMIT_ID_KEY: commit_id}
            properties = _properties(changes, owned, info, conflict, started)
            version = _commit(location, snapshot, changes, owned, properties, commit_id)
            if version is not None:
                return Commit(version, conflict)
            _delete(location, pending)  # the log shows this try absent
            pending = []
            wait = retry.delay(conflict)
            log.info(
                "the media_stats commit conflicted with a concurrent one over the same rows "
                "(try %d), retrying in %.2f s",
                conflict + 1,
                wait,
            )
            time.sleep(wait)
        raise FanslyCommitConflictError(
            f"the media_stats commit conflicted with concurrent commits {retry.max_tries} "
            "times in a row; nothing of it was committed"
        )
    except FanslyLakeError:
        # Raised only before a commit or where the log shows it absent: no version names them.
        _delete(location, [*adds, *pending])
        raise


def _latest(location: Location, opened: DeltaTable | None) -> DeltaTable:
    """The table at its latest version: ``opened`` brought up to date, else opened anew."""
    if opened is None:
        return ensure_table(location, MEDIA_STATS_TABLE)
    opened.update_incremental()
    return opened


def _properties(
    changes: _Changes, owned: Owned, metadata: dict[str, str], retries: int, started: float
) -> CommitProperties:
    """The commit info delta-rs's writer would record (predicate, metrics) beside
    ``metadata`` (the task's, and this try's unique id)."""
    metrics = {
        "num_added_files": len(changes.adds) + len(changes.rewritten),
        "num_removed_files": len(changes.removes),
        "num_added_rows": row_count(changes.adds),
        "num_copied_rows": row_count(changes.rewritten),
        "execution_time_ms": int((time.monotonic() - started) * 1000),
        "num_retries": retries,
    }
    custom: dict[str, Any] = {
        **metadata,
        "operationParameters": {"predicate": owned.predicate},
        "operationMetrics": metrics,
    }
    return CommitProperties(custom_metadata=custom, max_commit_retries=0)


def _commit(
    location: Location,
    snapshot: DeltaTable,
    changes: _Changes,
    owned: Owned,
    properties: CommitProperties,
    commit_id: str,
) -> int | None:
    """Commit on top of ``snapshot``, or of a newer one that touched nothing ``owned``
    selects; return the version, or ``None`` on a conflict (the log shows it absent). A
    failure is first looked up in the log by ``commit_id``: it may have landed."""
    removed = {r.path for r in changes.removes}
    listed: pa.Table | None = None  # the files of ``snapshot``, once a rebase listed them
    store_errors = 0
    for _ in range(_REBASES):
        try:
            snapshot.create_write_transaction(
                [*changes.adds, *changes.rewritten, *changes.removes],
                mode="append",
                schema=snapshot.schema(),
                partition_by=list(PARTITION_COLUMNS),
                commit_properties=properties,
            )
            return snapshot.version() + 1
        except _FAILED as error:
            newer = ensure_table(location, MEDIA_STATS_TABLE)
            landed = find_commit(newer, snapshot.version(), commit_id)
            if landed is not None:
                log.warning(
                    "delta-rs reported the media_stats commit failed (%s), but the log holds "
                    "it as version %d: it landed",
                    error,
                    landed,
                )
                return landed
            if newer.version() == snapshot.version():
                store_errors += 1
                _not_a_race(error, store_errors)
                time.sleep(random.uniform(0.05, 0.2) * store_errors)
                continue
            before = live_files(snapshot) if listed is None else listed
            listed = live_files(newer)
            if _touched(before, listed, owned, removed):
                return None
            snapshot = newer
            time.sleep(random.uniform(0, 0.02))
    return None


def find_commit(table: DeltaTable, after: int, commit_id: str) -> int | None:
    """The version after ``after`` whose commit info carries ``commit_id``, if any."""
    newer = table.version() - after
    if newer <= 0:
        return None
    for entry in table.history(newer):
        if entry.get(COMMIT_ID_KEY) == commit_id:
            return int(entry["version"])
    return None


def _not_a_race(error: Exception, failures: int) -> None:
    """A failed commit that left no newer version: a refusal is final at once, a store error
    after :data:`_STORE_TRIES`; either way nothing of it is in the table."""
    if isinstance(error, CommitFailedError | DeltaProtocolError):
        raise FanslyLakeError(
            f"delta-rs refused the media_stats commit, and no other commit came in between, "
            f"so trying again cannot help: {error}. Nothing of it was committed"
        ) from error
    if failures >= _STORE_TRIES:
        raise FanslyLakeStoreError(
            f"the lake's store failed the media_stats commit {failures} times in a row and the "
            f"log shows it did not land: {error}. Nothing of it was committed"
        ) from error
    log.warning("the lake's store failed the media_stats commit (try %d): %s", failures, error)


def _touched(before: pa.Table, after: pa.Table, owned: Owned, removed: set[str]) -> bool:
    """Whether the commits between two listings of the table's files removed a file this
    commit removes, or added one that may hold rows it replaces."""
    gone = set(before["path"].to_pylist()) - set(after["path"].to_pylist())
    if gone & removed:
        return True
    fresh = after.filter(pc.invert(pc.is_in(after["path"], before["path"])))
    return owned.may_hold(fresh).num_rows > 0


def _delete(location: Location, adds: Iterable[AddAction]) -> None:
    """Delete files no commit names (vacuum would, later)."""
    for add in adds:
        location.store.remove(f"{layout.MEDIA_STATS_DIR}/{add.path}")


def rows_added(entry: Mapping[str, Any]) -> int | None:
    """The rows a commit of the table's history added, whoever wrote it."""
    metrics = entry.get("operationMetrics") or {}
    found = metrics.get("num_added_rows", entry.get(ROWS_KEY))
    return None if found is None else int(found)


def replace_rows(
    location: Location,
    rows: Rows,
    day_rows: Mapping[Any, int],
    owned: Owned,
    metadata: dict[str, str],
) -> Commit:
    """Write the rows into new files of the table, then commit them over what ``owned``
    selects. The table exists (version 0 at least) before the first file is written, so a
    task killed in between leaves a lake, never a folder of files without a log."""
    snapshot = ensure_table(location, MEDIA_STATS_TABLE)
    adds = write_days(location, rows, day_rows)
    return replace_files(location, adds, owned, metadata, snapshot=snapshot)


def replace_table(
    location: Location, rows: pa.Table, owned: Owned, metadata: dict[str, str]
) -> Commit:
    """Replace what ``owned`` selects with the rows of one table held in memory (tools,
    benchmarks): the task's own path, without a staging folder."""

    def read(where: pc.Expression | None) -> Iterable[pa.RecordBatch]:
        return (rows if where is None else rows.filter(where)).to_batches()

    days = pc.value_counts(rows["dt"]).to_pylist()
    return replace_rows(location, read, {d["values"]: d["counts"] for d in days}, owned, metadata)
