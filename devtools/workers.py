"""Run MediaStatsOperator tasks in separate processes, as Airflow's workers do."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, DEFAULT_KEY, Emulator

# One task in its own interpreter; prints its XCom summary as JSON on the last line.
# kill_on_new_data_file: a watcher SIGKILLs the process as soon as delta-rs has written its
# first data file, i.e. after the files and before the commit that would publish them.
# barrier: a folder; with its snapshot loaded, the task waits before its first media_stats
# write until `parties` tasks arrived there, so that every commit starts from the same
# snapshot and they really race.
# merge_barrier: the same for the media_offers merge, its snapshot loaded; metadata_tries: how
# many tries that merge gets (as if many more tasks were merging). upgrade_barrier: the same
# after finding media_stats an older release's, before adding its new columns.
# reported_failed: the first commit of prepared files lands, then delta-rs reports it failed
# with that message, as a store's retried PUT that found its own log entry makes it do.
WORKER = """
import json, os, signal, sys, threading, time
from pathlib import Path
from airflow_provider_fansly.operators.media_stats import MediaStatsOperator
import airflow_provider_fansly.storage.delta as delta
args = json.loads(sys.argv[1])
if args["kill_on_new_data_file"]:
    table = Path(args["lake"]) / "media_stats"
    known = set(table.rglob("*.parquet"))
    def watch():
        while True:
            if any(p not in known for p in table.rglob("*.parquet")):
                os.kill(os.getpid(), signal.SIGKILL)
            time.sleep(0.001)
    threading.Thread(target=watch, daemon=True).start()
def gate_at(folder):
    gate = Path(folder)
    (gate / str(os.getpid())).touch()
    deadline = time.monotonic() + 60
    while len(list(gate.iterdir())) < args["parties"] and time.monotonic() < deadline:
        time.sleep(0.005)
if args["barrier"]:
    real, waited = delta.write_deltalake, []
    def write_deltalake(table, *a, **kw):
        if kw.get("mode") == "overwrite" and not waited:  # the first media_stats try only
            waited.append(True)
            gate_at(args["barrier"])
        return real(table, *a, **kw)
    delta.write_deltalake = write_deltalake
if args.get("merge_barrier"):
    from deltalake import DeltaTable
    real_merge, merged = DeltaTable.merge, []
    def merge(self, *a, **kw):
        if not merged:
            merged.append(True)
            gate_at(args["merge_barrier"])
        return real_merge(self, *a, **kw)
    DeltaTable.merge = merge
if args.get("upgrade_barrier"):
    real_missing, upgraded = delta._missing_columns, []
    def _missing_columns(table, spec):
        missing = real_missing(table, spec)
        if missing and spec.name == "media_stats" and not upgraded:
            upgraded.append(True)
            gate_at(args["upgrade_barrier"])
        return missing
    delta._missing_columns = _missing_columns
if args.get("metadata_tries"):
    import airflow_provider_fansly.storage.commit as commit
    commit.METADATA_RETRY = delta.ConflictRetry(max_tries=args["metadata_tries"])
if args.get("reported_failed"):
    from deltalake import DeltaTable
    from deltalake.exceptions import CommitFailedError
    real_commit, landed = DeltaTable.create_write_transaction, []
    def create_write_transaction(self, *a, **kw):
        real_commit(self, *a, **kw)
        landed.append(True)
        if len(landed) == 1:
            print("commit landed, reported failed", file=sys.stderr, flush=True)
            raise CommitFailedError(args["reported_failed"])
    DeltaTable.create_write_transaction = create_write_transaction
summary = MediaStatsOperator(
    task_id="worker", account_id=args["account"], media_offer_ids=args["ids"],
    output_path=args["lake"], after_date=args["after"], before_date=args["before"],
    period=args["period"], max_in_flight=args["max_in_flight"],
).execute({})
print(json.dumps(summary))
"""


def start_worker(
    lake: Path | str,
    emu: Emulator,
    after: int,
    before: int,
    *,
    ids: list[str],
    period: int = 86_400_000,
    kill_on_new_data_file: bool = False,
    barrier: Path | None = None,
    parties: int = 0,
    env: dict[str, str] | None = None,
    max_in_flight: int = 2,
    extra: dict[str, Any] | None = None,
    merge_barrier: Path | None = None,
    metadata_tries: int | None = None,
    upgrade_barrier: Path | None = None,
    reported_failed: str | None = None,
) -> subprocess.Popen[bytes]:
    """Start one task in a new process against the emulator."""
    args = {
        "account": DEFAULT_ACCOUNT,
        "ids": ids,
        "lake": str(lake),
        "after": after,
        "before": before,
        "period": period,
        "kill_on_new_data_file": kill_on_new_data_file,
        "barrier": str(barrier) if barrier else None,
        "parties": parties,
        "max_in_flight": max_in_flight,
        "merge_barrier": str(merge_barrier) if merge_barrier else None,
        "metadata_tries": metadata_tries,
        "upgrade_barrier": str(upgrade_barrier) if upgrade_barrier else None,
        "reported_failed": reported_failed,
    }
    conn = {"conn_type": "fansly", "host": emu.url, "password": DEFAULT_KEY, "extra": extra or {}}
    return subprocess.Popen(
        [sys.executable, "-c", WORKER, json.dumps(args)],
        env={**os.environ, **(env or {}), "AIRFLOW_CONN_FANSLY_DEFAULT": json.dumps(conn)},
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )


def finish(worker: subprocess.Popen[bytes], timeout: float = 180) -> dict[str, Any]:
    """Wait for a worker that must succeed; return its summary."""
    out, err = worker.communicate(timeout=timeout)
    assert worker.returncode == 0, err.decode()[-3000:]
    return dict(json.loads(out.decode().strip().splitlines()[-1]))
