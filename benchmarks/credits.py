"""Benchmark 6, credits: an outage mid-run, then the retry.

An outage after 80% of a run outlasts the hook's retries; the task's retry runs. Successful
answers paid against the run's minimum (goal: at most 1.25x), every send counted too, and the
same with resume switched off (``resume_max_age=0``) as the baseline. (Tasks sharing a key
are benchmark 2.)

    python -m benchmarks.credits [--tiny]
"""

from __future__ import annotations

import tempfile
from datetime import timedelta

from benchmarks.common import conn_env, header, parse_args, report, verdict

HOUR = 3_600_000
START = 1_767_225_600_000


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
    header("credits: an outage then the retry")
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
