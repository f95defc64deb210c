"""Benchmark 6, credits: tasks sharing one key, and an outage mid-run then the retry.

1. N worker processes (N = 4, 8) fetch on one key with no ``requests_per_minute``: the share
   of requests answered 429 (goal: at most 10%) and the time from the first request to the
   last against the plan's minimum, all requests at the key's limit (goal: at most 1.5x).
2. An outage after 80% of a run outlasts the hook's retries; the task's retry runs. Successful
   answers paid against the run's minimum (goal: at most 1.25x), every send counted too, and
   the same with resume switched off (``resume_max_age=0``) as the baseline.

    python -m benchmarks.credits [--tiny]
"""

from __future__ import annotations

import tempfile
from datetime import timedelta

from benchmarks.common import conn_env, header, parse_args, report, verdict

HOUR = 3_600_000
START = 1_767_225_600_000


def shared_key(workers: int, total_media: int, limit: int, window: float) -> None:
    """N processes on one key, each a share of the media offers, 3 requests each."""
    from airflow_provider_fansly.testing.emulator import Emulator, EmulatorConfig
    from devtools.workers import finish, start_worker

    per = total_media // workers
    before = START + 12 * 24 * HOUR
    with (
        tempfile.TemporaryDirectory() as lake,
        Emulator(EmulatorConfig(rate_limit=limit, rate_window=window)) as emu,
    ):
        procs = [
            start_worker(
                lake,
                emu,
                START,
                before,
                ids=[f"k{w}-{m}" for m in range(per)],
                period=HOUR,
                max_in_flight=16,
                extra={"rate_window_seconds": window},
            )
            for w in range(workers)
        ]
        for proc in procs:
            finish(proc, timeout=900)
        counts, log = dict(emu.state.counts), list(emu.state.log)
    served = counts["served"]
    span = max(e["at"] for e in log) - min(e["at"] for e in log)
    minimum = (served - 1) / (limit / window)
    share = counts["rate_limited"] / counts["requests"]
    report(f"{workers} processes: {served} answers, {counts['rate_limited']} x 429", span, "s")
    report(f"{workers} processes: the key's minimum at {limit}/{window:g} s", minimum, "s")
    verdict(f"{workers} processes: 429s / requests", share, "<= 0.10", share <= 0.10)
    verdict(f"{workers} processes: time / minimum", span / minimum, "<= 1.5", span <= 1.5 * minimum)


def outage(media: int, resume: bool) -> tuple[int, int, int]:
    """A run whose API fails from 80% on until its retry; (needed, answers paid, sends)."""
    from airflow_provider_fansly.client.windows import request_count
    from airflow_provider_fansly.operators.media_stats import MediaStatsOperator
    from airflow_provider_fansly.testing.emulator import DEFAULT_ACCOUNT, Emulator

    before = START + 12 * 24 * HOUR
    needed = media * request_count(START, before, HOUR)
    with tempfile.TemporaryDirectory() as lake, Emulator() as emu:
        emu.add_faults({"kind": "server_error", "after": needed * 4 // 5, "times": 100_000})
        with conn_env(emu.url, max_retries=2, retry_backoff_seconds=0.01):
            task = MediaStatsOperator(
                task_id="outage",
                account_id=DEFAULT_ACCOUNT,
                media_offer_ids=[f"o{m}" for m in range(media)],
                output_path=lake,
                period=HOUR,
                after_date=START,
                before_date=before,
                resume_max_age=timedelta(hours=6 if resume else 0),
            )
            try:
                task.execute({})  # the first try
            except Exception as error:  # the outage outlasts the hook's retries
                print(f"   first try failed as planned: {type(error).__name__}")
            emu.state.clear_faults()
            task.execute({})  # Airflow's retry
        return needed, emu.state.counts["served"], emu.state.counts["requests"]


def main() -> None:
    args = parse_args(__doc__.splitlines()[0])
    header("credits: many workers on one key, and an outage then the retry")
    limit, window = (30, 2.0) if args.tiny else (60, 5.0)
    total = 24 if args.tiny else 120
    for workers in (4,) if args.tiny else (4, 8):
        shared_key(workers, total, limit, window)
    media = 10 if args.tiny else 100
    needed, paid, sent = outage(media, resume=True)
    _, paid_again, sent_again = outage(media, resume=False)
    report(f"outage at 80%: minimum for {media} media offers", needed, "answers")
    report("with resume: answers paid / every send", paid, f"/ {sent}")
    report("without resume (baseline): answers paid / every send", paid_again, f"/ {sent_again}")
    verdict("answers paid / minimum, with resume", paid / needed, "<= 1.25", paid <= 1.25 * needed)
    verdict("answers paid, with resume / without", paid / paid_again, "< 1", paid < paid_again)


if __name__ == "__main__":
    main()
